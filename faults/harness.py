"""What every fault run shares: a throw-away database, the shop as real processes, a report.

Each run starts its own processes on free loopback ports: a Redis (cache and broker), the
Stripe emulator (when the run needs Stripe), gunicorn, a Celery worker and a sweeper (a loop
calling the inbox sweep, as beat would, but every few seconds). The database is cloned from
`faults_template`, which `manage.py migrate` builds once (again only when a migration is
missing), and dropped at the end. The machine's own PostgreSQL and Redis are never stopped:
runs that stop or restart a server start their own.

A run prints what it does (`[run +12.3s] ...`) and one line per invariant:
`INVARIANT PASS|FAIL <run>: <invariant> (<detail>)`; `faults/run` collects those lines.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from stripe_emulator.keys import placeholder_key

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
# The machine's PostgreSQL: only databases named faults_* are created and dropped there.
PG_SERVER = os.environ.get("FAULTS_PG_URL", "postgres://postgres@127.0.0.1:5432")
TEMPLATE = "faults_template"

SECRET_KEY = placeholder_key("sk", "FaultRuns")
PUBLISHABLE_KEY = placeholder_key("pk", "FaultRuns")
WEBHOOK_SECRET = "whsec_fault_runs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=30.0, interval=0.1, what="condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


# --- reporting --------------------------------------------------------------------------
class Report:
    def __init__(self, run: str):
        self.run = run
        self.started = time.monotonic()
        self.results: list[tuple[str, bool, str]] = []

    def step(self, message: str) -> None:
        print(f"[{self.run} +{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def check(self, invariant: str, ok: bool, detail: str = "") -> bool:
        self.results.append((invariant, bool(ok), detail))
        verdict = "PASS" if ok else "FAIL"
        suffix = f" ({detail})" if detail else ""
        print(f"INVARIANT {verdict} {self.run}: {invariant}{suffix}", flush=True)
        return ok

    def finish(self) -> int:
        failed = [r for r in self.results if not r[1]]
        elapsed = time.monotonic() - self.started
        if not self.results:
            print(f"RESULT FAIL {self.run}: no invariant was checked ({elapsed:.0f}s)", flush=True)
            return 1
        verdict = "FAIL" if failed else "PASS"
        print(
            f"RESULT {verdict} {self.run}: {len(self.results) - len(failed)}/{len(self.results)}"
            f" invariants held ({elapsed:.0f}s)",
            flush=True,
        )
        return 1 if failed else 0


# --- databases --------------------------------------------------------------------------
def _admin(sql: str, server: str = PG_SERVER) -> list:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def _db_exists(name: str, server: str = PG_SERVER) -> bool:
    # Names are ours (faults_*), never input.
    return bool(_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", server))  # noqa: S608


def manage(*args: str, env: dict, timeout: float = 600, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def base_env(database_url: str, **extra) -> dict:
    """The environment every process of a run shares (besides its Redis and ports)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "LOG_LEVEL": "WARNING",
        # The dj-stripe mirror is a staff convenience that calls Stripe after each event; the
        # runs check our books, and synthetic events have no object at Stripe to fetch.
        "MIRROR_STRIPE_OBJECTS": "false",
        **{key: str(value) for key, value in extra.items()},
    }


def ensure_template(report: Report) -> None:
    """`faults_template`: the schema `manage.py migrate` builds, made once per migration set."""
    url = f"{PG_SERVER}/{TEMPLATE}"
    env = base_env(url, CELERY_TASK_ALWAYS_EAGER="true")
    if _db_exists(TEMPLATE):
        if manage("migrate", "--check", env=env, check=False).returncode == 0:
            return
        report.step(f"{TEMPLATE}: migrations missing, migrating")
    else:
        report.step(f"creating {TEMPLATE} with manage.py migrate (about a minute the first time)")
        _admin(f"CREATE DATABASE {TEMPLATE}")
    manage("migrate", "-v0", env=env)


@contextlib.contextmanager
def fault_database(name: str, report: Report):
    """A fresh database `faults_<name>` cloned from the migrated template; dropped after."""
    ensure_template(report)
    db = f"faults_{name}"
    _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    _admin(f"CREATE DATABASE {db} TEMPLATE {TEMPLATE}")
    report.step(f"database {db} cloned from {TEMPLATE}")
    try:
        yield f"{PG_SERVER}/{db}"
    finally:
        if os.environ.get("FAULTS_KEEP_DB") != "1":
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def setup_django(env: dict) -> None:
    """Point this process's ORM at the run's database (the checks read it directly)."""
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE"):
        if key in env:
            os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # This process only reads and seeds; it never runs tasks itself.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["MIRROR_STRIPE_OBJECTS"] = "false"
    import django

    django.setup()


# --- processes --------------------------------------------------------------------------
class Process:
    """A child process with its output in a log file; stopped by its own pid only."""

    name = "process"

    def __init__(self, args: list[str], env: dict | None = None, log_dir: str | None = None):
        self.args = args
        self.env = env
        self.log_path = (
            Path(log_dir or tempfile.gettempdir()) / f"{self.name}-{uuid.uuid4().hex[:6]}.log"
        )
        self.process: subprocess.Popen | None = None

    def spawn(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument lists)
            self.args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def kill9(self) -> None:
        if self.process:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self, timeout: float = 15) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


class Redis(Process):
    name = "redis"

    def __init__(self, port: int | None = None, log_dir=None):
        self.port = port or free_port()
        super().__init__(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            log_dir=log_dir,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.spawn()
        wait_until(self.answers, timeout=10, what="redis")
        return self

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False


class Emulator(Process):
    name = "stripe-emulator"

    def __init__(self, webhook_url: str | None, *extra: str, log_dir=None):
        self.port = free_port()
        args = [PYTHON, "-m", "stripe_emulator", "--port", str(self.port)]
        args += ["--async-delay-seconds", "0", "--webhook-timeout-seconds", "10", *extra]
        if webhook_url:
            args += ["--webhook-url", webhook_url, "--webhook-secret", WEBHOOK_SECRET]
        super().__init__(args, env={**os.environ}, log_dir=log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.spawn()
        wait_until(self.answers, timeout=20, what="the Stripe emulator")
        return self

    def answers(self) -> bool:
        if not self.alive():
            raise RuntimeError(f"the emulator exited:\n{self.output()}")
        try:
            return self.control("GET", "/health")[0] == 200
        except OSError:
            return False

    def control(self, method: str, path: str, body: dict | None = None):
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 (loopback http)
            f"{self.url}/_emulator{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def list_all(self, resource: str) -> list[dict]:
        """Every object of a list endpoint (`payment_intents`, `checkout/sessions`, ...)."""
        import requests

        objects, after = [], None
        for _ in range(1000):  # bounded: 100 000 objects
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            answer = requests.get(
                f"{self.url}/v1/{resource}",
                params=params,
                headers={"Authorization": f"Bearer {SECRET_KEY}"},
                timeout=30,
            )
            answer.raise_for_status()
            page = answer.json()
            objects += page["data"]
            if not page.get("has_more") or not page["data"]:
                break
            after = page["data"][-1]["id"]
        return objects


class Gunicorn(Process):
    name = "gunicorn"

    def __init__(self, env: dict, workers: int = 2, threads: int = 4, log_dir=None):
        self.port = free_port()
        super().__init__(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
            ],
            env=env,
            log_dir=log_dir,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.spawn()
        wait_until(self.answers, timeout=60, what="gunicorn")
        return self

    def answers(self) -> bool:
        import requests

        if not self.alive():
            raise RuntimeError(f"gunicorn exited:\n{self.output()}")
        try:
            return requests.get(f"{self.url}/api/v1/health/", timeout=1).status_code == 200
        except requests.RequestException:
            return False


class Worker(Process):
    """`celery -A config worker`: one process (threads pool), so kill -9 takes all of it."""

    name = "celery-worker"

    def __init__(self, env: dict, queue: str, concurrency: int = 3, log_dir=None):
        super().__init__(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "-P",
                "threads",
                "-c",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=env,
            log_dir=log_dir,
        )

    def start(self):
        before = self.log_path.read_bytes().count(b"ready.") if self.log_path.exists() else 0
        self.spawn()
        wait_until(
            lambda: self.log_path.read_bytes().count(b"ready.") > before,
            timeout=60,
            what="the celery worker",
        )
        return self


class Sweeper(Process):
    """Beat's sweeps, every few seconds: re-queues inbox events whose task was lost, and
    e-mails a dead worker left unsent in the outbox."""

    name = "sweeper"

    def __init__(self, env: dict, every: float = 5.0, limit: int = 200, log_dir=None):
        code = (
            "import time, django, logging\n"
            "django.setup()\n"
            "from django.db import close_old_connections\n"
            "from notifications import services as outbox\n"
            "from payments.webhooks import processing\n"
            "log = logging.getLogger('faults.sweeper')\n"
            "deadline = time.monotonic() + 3600\n"
            "while time.monotonic() < deadline:\n"
            "    try:\n"
            f"        n = processing.sweep(limit={limit})\n"
            f"        m = outbox.send_unsent(limit={limit})\n"
            "        print('sweep re-queued', n, 'events and', m, 'e-mails', flush=True)\n"
            "    except Exception as exc:\n"
            "        print('sweep failed:', type(exc).__name__, exc, flush=True)\n"
            "        close_old_connections()\n"
            f"    time.sleep({every})\n"
        )
        super().__init__([PYTHON, "-c", code], env=env, log_dir=log_dir)

    def start(self):
        return self.spawn()


class Shop:
    """Redis, optionally the emulator, gunicorn, a Celery worker and the sweeper."""

    def __init__(self, database_url: str, *, emulator: bool = False, emulator_args=(), **extra):
        import threading

        self._stopping = threading.Event()
        self.log_dir = tempfile.mkdtemp(prefix="faults-logs-")
        self.mail_dir = tempfile.mkdtemp(prefix="faults-mail-")
        self.redis = Redis(log_dir=self.log_dir).start()
        self.queue = f"faults-{uuid.uuid4().hex[:8]}"
        self.emulator = None
        overrides = {
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # an absolute path: four slashes
            "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
            "WEBHOOK_RETRY_MAX_SECONDS": "10",
            "WEBHOOK_MAX_ATTEMPTS": "30",
            "WEBHOOK_SWEEP_GRACE_SECONDS": "20",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_READ_TIMEOUT": "3",
            "RATE_LIMIT_ORDERS_PER_USER": "100000/m",
            "RATE_LIMIT_ORDERS_PER_IP": "100000/m",
            "RATE_LIMIT_PAYMENTS_PER_USER": "100000/m",
            "RATE_LIMIT_PAYMENTS_PER_IP": "100000/m",
            "RATE_LIMIT_AUTH_PER_IP": "100000/m",
            "RATE_LIMIT_REGISTRATIONS_PER_IP": "100000/m",
            "RATE_LIMIT_WEBHOOK_PER_IP": "1000000/m",
            "PAYMENT_FAILURES_PER_HOUR": "100000",
            "MAX_PENDING_ORDERS": "100000",
            "MAX_RESERVED_PER_PRODUCT": "100000",
            **extra,
        }
        self.gunicorn = Gunicorn({}, log_dir=self.log_dir)
        if emulator:
            self.emulator = Emulator(
                f"{self.gunicorn.url}/api/v1/webhooks/stripe/", *emulator_args, log_dir=self.log_dir
            ).start()
            overrides["STRIPE_API_BASE"] = self.emulator.url
            overrides["FRONTEND_URL"] = f"{self.gunicorn.url}/shop/"
        self.env = base_env(database_url, **overrides)
        self.gunicorn.env = self.env
        self.worker = Worker(self.env, self.queue, log_dir=self.log_dir).start()
        self.gunicorn.start()
        self.sweeper = Sweeper(self.env, log_dir=self.log_dir).start()

    @property
    def url(self) -> str:
        return self.gunicorn.url

    def supervise_worker(self, report: Report) -> None:
        """Restart the worker when it exits on its own, as systemd's Restart=always would.

        Each crash is reported with the worker's last critical log line: a crash is a
        finding even when the restart hides it from the invariants.
        """
        self.worker_crashes: list[str] = []

        def watch():
            while not self._stopping.is_set():
                process = self.worker.process
                if process is not None and process.poll() is not None:
                    lines = [
                        line
                        for line in self.worker.output(200_000).splitlines()
                        if '"critical"' in line or "Unrecoverable" in line
                    ]
                    why = lines[-1][:300] if lines else f"exit code {process.returncode}"
                    self.worker_crashes.append(why)
                    report.step(f"WORKER CRASHED (exit {process.returncode}): {why}")
                    self.worker.process = None
                    try:
                        self.worker.start()
                        report.step(f"supervisor restarted the worker, pid {self.worker.pid}")
                    except Exception as exc:  # the broker may still be down: try again
                        report.step(f"worker restart failed ({exc}); retrying")
                        self.worker.stop()
                self._stopping.wait(1.0)

        import threading

        threading.Thread(target=watch, daemon=True).start()

    def mail_subjects(self) -> list[str]:
        return [subject for subject, _ in self.mail_headers()]

    def mail_headers(self) -> list[tuple[str, str]]:
        """(Subject, Message-ID) of every message the file backend wrote."""
        headers = []
        for path in sorted(Path(self.mail_dir).iterdir()):
            text = path.read_text(errors="replace")
            for message in re.split(r"^-{79}$", text, flags=re.M):
                subject = re.search(r"^Subject: (.*)$", message, re.M)
                if subject:
                    message_id = re.search(r"^Message-ID: (.*)$", message, re.M)
                    headers.append((subject[1], message_id[1] if message_id else ""))
        return headers

    def queued_tasks(self) -> int:
        import redis

        broker = redis.Redis.from_url(self.redis.url)
        try:
            names = broker.keys(f"{self.queue}*")
            return sum(broker.llen(n) for n in names if broker.type(n) == b"list")
        except redis.RedisError:
            return -1
        finally:
            broker.close()

    def logs(self) -> str:
        parts = []
        for proc in (self.gunicorn, self.worker, self.sweeper, self.emulator):
            if proc is not None:
                parts.append(f"--- {proc.name} ({proc.log_path})\n{proc.output(3000)}")
        return "\n".join(parts)

    def stop(self) -> None:
        self._stopping.set()
        for proc in (self.sweeper, self.gunicorn, self.worker, self.emulator, self.redis):
            if proc is not None:
                try:
                    proc.stop()
                except Exception as exc:  # stop the others whatever happens to one
                    print(f"stopping {proc.name}: {exc}", flush=True)
        # The e-mails were counted already; the process logs stay for a look afterwards.
        import shutil

        shutil.rmtree(self.mail_dir, ignore_errors=True)
        print(f"process logs: {self.log_dir}", flush=True)


# --- signed events, straight to the webhook endpoint ------------------------------------
def signed_post(session, url: str, event: dict, timeout: float = 15):
    import stripe

    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    return session.post(
        f"{url}/api/v1/webhooks/stripe/",
        data=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=timeout,
    )


def event(event_id: str, type_: str, obj: dict, created: int) -> dict:
    from django.conf import settings

    return {
        "id": event_id,
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def payment_intent(
    pi_id: str,
    order_id: int,
    attempt: int,
    amount: int,
    *,
    status="succeeded",
    currency="usd",
    error=None,
) -> dict:
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "status": status,
        "capture_method": "automatic",
        "latest_charge": f"ch_{pi_id[3:]}" if status == "succeeded" else None,
        "last_payment_error": error,
        "metadata": {"order_id": str(order_id), "attempt": str(attempt)},
        "livemode": False,
    }


def seed_orders(count: int, *, prefix: str, users: int = 50, amount: int = 1500, attempts=1):
    """`count` pending orders, each with one line and `attempts` PaymentIntent attempts.

    Returns [(order_id, [pi ids...])]. One product holds exactly the reserved units, so
    stock sold once per paid order is checkable.
    """
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import Product
    from orders.models import Order, OrderLine
    from payments.models import PaymentAttempt

    user_model = get_user_model()
    people = user_model.objects.bulk_create(
        [user_model(email=f"{prefix}-{n}@example.com") for n in range(users)]
    )
    product = Product.objects.create(
        sku=f"{prefix.upper()}-SKU",
        name=f"Fault run item {prefix}",
        description="x",
        unit_amount=amount,
        currency="usd",
        stock=count,
        reserved=count,
        active=True,
    )
    until = timezone.now() + timedelta(hours=6)
    orders = Order.objects.bulk_create(
        [
            Order(
                user=people[n % users],
                email=people[n % users].email,
                currency="usd",
                subtotal=amount,
                total=amount,
                reserved_until=until,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=o,
                product=product,
                sku=product.sku,
                name=product.name,
                unit_amount=amount,
                quantity=1,
                line_total=amount,
            )
            for o in orders
        ],
        batch_size=1000,
    )
    rows, seeded = [], []
    for o in orders:
        ids = []
        for number in range(1, attempts + 1):
            pi = f"pi_{prefix}_{o.pk}_{number}"
            ids.append(pi)
            rows.append(
                PaymentAttempt(
                    order=o,
                    number=number,
                    kind=PaymentAttempt.Kind.PAYMENT_INTENT,
                    stripe_payment_intent_id=pi,
                    amount=amount,
                    currency="usd",
                )
            )
        seeded.append((o.pk, ids))
    PaymentAttempt.objects.bulk_create(rows, batch_size=1000)
    return product.pk, seeded


def post_all(url: str, events: list[dict], threads: int = 8, deadline: float = 600):
    """POST every event once (bounded in time); returns the list of status codes (None: error)."""
    import concurrent.futures
    import threading

    import requests

    local = threading.local()
    stop_at = time.monotonic() + deadline

    def one(evt):
        if time.monotonic() > stop_at:
            return None
        if not hasattr(local, "session"):
            local.session = requests.Session()
        try:
            return signed_post(local.session, url, evt).status_code
        except requests.RequestException:
            return None

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, events))


def inbox_counts() -> dict:
    from django.db.models import Count

    from payments.models import WebhookEvent

    return dict(WebhookEvent.objects.values_list("status").annotate(n=Count("pk")))


def wait_for_inbox(report: Report, total: int, timeout: float, shop: Shop | None = None) -> bool:
    """Wait until `total` events are stored, none is still `received`, and every e-mail
    they decided has left the outbox (sent by its own task after the event's commit)."""
    from django.db import connection

    from notifications.models import OutboxEmail

    deadline = time.monotonic() + timeout
    last = 0.0
    while time.monotonic() < deadline:
        counts = inbox_counts()
        unsent = OutboxEmail.objects.filter(sent_at=None).count()
        connection.close()
        stored = sum(counts.values())
        if stored >= total and not counts.get("received") and not unsent:
            report.step(f"inbox settled: {counts}, outbox empty")
            return True
        if time.monotonic() - last > 15:
            report.step(f"inbox: {counts}, {unsent} e-mail(s) unsent (waiting for {total})")
            last = time.monotonic()
        time.sleep(1)
    report.step(f"inbox did not settle in {timeout:.0f}s: {inbox_counts()}")
    if shop is not None:
        report.step(shop.logs())
    return False


def check_paid_once(report: Report, shop: Shop, order_ids: list[int], product_id: int) -> None:
    """Each order paid once: status, one succeeded attempt, one audit entry, one receipt,
    its unit sold once; and the inbox holds nothing unhandled."""
    from collections import Counter

    from django.db.models import Count

    from audit.models import AuditEntry
    from catalog.models import Product
    from orders.models import Order
    from payments.models import AttemptStatus, PaymentAttempt, WebhookEvent

    n = len(order_ids)
    statuses = Counter(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True))
    report.check("every order is paid", statuses == Counter({"paid": n}), f"{dict(statuses)}")
    succeeded = Counter(
        PaymentAttempt.objects.filter(
            order_id__in=order_ids, status=AttemptStatus.SUCCEEDED
        ).values_list("order_id", flat=True)
    )
    report.check(
        "one succeeded attempt per order",
        len(succeeded) == n and set(succeeded.values()) == {1},
        f"{len(succeeded)} orders with a succeeded attempt",
    )
    audits = dict(
        AuditEntry.objects.filter(action="payment.succeeded", order_id__in=order_ids)
        .values_list("order_id")
        .annotate(c=Count("pk"))
    )
    twice = sum(1 for c in audits.values() if c > 1)
    report.check(
        "one payment.succeeded audit entry per order",
        len(audits) == n and twice == 0,
        f"{sum(audits.values())} entries for {n} orders, {twice} orders with more than one",
    )
    numbers = dict(Order.objects.filter(pk__in=order_ids).values_list("number", "pk"))
    # E-mail is at least once (notifications.services): a kill between the mail server's
    # answer and our commit sends it again, as the same message (one Message-ID), never a
    # second one.
    receipts = Counter()
    message_ids: dict[str, set[str]] = {}
    for subject, message_id in shop.mail_headers():
        if subject.startswith("Receipt for order "):
            number = subject.removeprefix("Receipt for order ")
            receipts[number] += 1
            message_ids.setdefault(number, set()).add(message_id)
    ours = {num: c for num, c in receipts.items() if num in numbers}
    missing = sorted(set(numbers) - set(ours))
    if missing:
        report.step(f"orders without a receipt: {missing[:10]}")
    repeated = sum(1 for c in ours.values() if c > 1)
    report.check(
        "one receipt per order (a repeat after a kill is the same message)",
        len(ours) == n and all(len(message_ids[num]) == 1 for num in ours),
        f"{len(ours)} of {n} orders have their receipt, {n - len(ours)} without; "
        f"{repeated} sent again after a kill with the same Message-ID",
    )
    product = Product.objects.get(pk=product_id)
    report.check(
        "each order's unit sold once",
        product.sold == n and product.reserved == 0,
        f"sold {product.sold}, reserved {product.reserved}, stock {product.stock}",
    )
    left = Counter(WebhookEvent.objects.values_list("status", flat=True))
    report.check(
        "no inbox event left received or failed",
        not left.get("received") and not left.get("failed"),
        f"{dict(left)}",
    )
