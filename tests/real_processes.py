"""Real processes on loopback for tests: Redis, a Celery worker, the Stripe emulator."""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class LoggedProcess:
    """A child process whose output goes to a temp log file; stopped by its own pid."""

    log_prefix = "process-"

    def __init__(self):
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the process)
            prefix=self.log_prefix, suffix=".log", delete=False
        )
        self.process = None

    def spawn(self, argv: list[str], env: dict | None = None) -> None:
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, grace: float = 15) -> None:
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
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
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, what="redis")
        return self

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def test_database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


class CeleryWorker(LoggedProcess):
    log_prefix = "worker-"

    """`celery -A config worker` against the test database and the given broker."""

    def __init__(self, broker_url: str, queue: str, **env):
        super().__init__()
        self.mail_dir = tempfile.mkdtemp(prefix="worker-mail-")
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # mail_dir is absolute: four slashes
            **{key: str(value) for key, value in env.items()},
        }
        self.queue = queue

    def start(self):
        self.spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queue,
                "-c",
                "1",
                "-P",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=self.env,
        )
        wait_until(
            lambda: b"ready." in Path(self.log.name).read_bytes(),
            timeout=30,
            what="the celery worker",
        )
        return self

    def mails(self) -> list[str]:
        return [p.read_text() for p in Path(self.mail_dir).iterdir()]


@contextlib.contextmanager
def celery_sending_to(broker_url: str, queue: str):
    """Make this process publish real tasks to `broker_url` instead of running them eagerly."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    conf.broker_url, conf.task_always_eager, conf.task_default_queue = broker_url, False, queue
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


# --- the offline Stripe emulator (stripe_emulator) ----------------------------------------
class EmulatorServer(LoggedProcess):
    """`python -m stripe_emulator` on a free loopback port, fast retries, manual async."""

    api_key = "sk_test_emulator_tests"
    log_prefix = "stripe-emulator-"

    def __init__(self, *args: str, webhook_urls=(), webhook_secret=None):
        super().__init__()
        self.port = free_port()
        self.args = [
            "--retry-base-seconds",
            "0.05",
            "--async-delay-seconds",
            "0",
            "--webhook-timeout-seconds",
            "2",
            *args,
        ]
        for url in webhook_urls:
            self.args += ["--webhook-url", url]
        if webhook_secret:
            self.args += ["--webhook-secret", webhook_secret]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.spawn([sys.executable, "-m", "stripe_emulator", "--port", str(self.port), *self.args])
        wait_until(self.answers, timeout=20, what="the Stripe emulator")
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the emulator exited:\n{self.output()}")
        try:
            return self.control("GET", "/health")[0] == 200
        except OSError:
            return False

    def control(self, method: str, path: str, body: dict | None = None):
        """Call `/_emulator<path>`; returns (status, JSON body)."""
        import json
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_emulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def client(self, api_key: str | None = None, *, timeout=10.0, retries=0):
        import stripe
        from django.conf import settings

        return stripe.StripeClient(
            api_key or self.api_key,
            base_addresses={"api": self.url},
            stripe_version=settings.STRIPE_API_VERSION,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )


class WebhookReceiver:
    """A loopback HTTP server in this process that records what it is sent.

    `fail_next(n)` answers the next n deliveries with a 500, as a broken receiver would.
    """

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.received: list[dict] = []
        self.failures_left = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.failures_left > 0
                    receiver.failures_left -= 1 if failing else 0
                    receiver.received.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "answered": 500 if failing else 200,
                        }
                    )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def start(self):
        self.thread.start()
        return self

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def events(self, answered: int | None = None) -> list[dict]:
        import json

        with self.lock:
            return [
                json.loads(r["body"])
                for r in self.received
                if answered is None or r["answered"] == answered
            ]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.failures_left = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- gunicorn serving the project ------------------------------------------------------
class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: what nginx does with `proxy_pass http://unix:...`."""

    def __init__(self, socket_path: str, timeout: float = 10.0):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Gunicorn(LoggedProcess):
    """`gunicorn config.wsgi:application` on a loopback port, or on a Unix socket."""

    log_prefix = "gunicorn-"

    def __init__(self, port: int | None, env: dict, *, socket_path: str | None = None, workers=2):
        super().__init__()
        self.port = port
        self.env = env
        self.socket_path = socket_path
        self.workers = workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bind(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else f"127.0.0.1:{self.port}"

    def start(self):
        argv = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        self.spawn(
            [*argv, "--bind", self.bind, "--workers", str(self.workers), "--timeout", "60"],
            env=self.env,
        )
        wait_until(self.answers, timeout=60, what="gunicorn")
        return self

    def connection(self, timeout: float = 10.0):
        if self.socket_path:
            return UnixHTTPConnection(self.socket_path, timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        """(status, headers, parsed JSON body or None), over TCP or the Unix socket."""
        import json

        connection = self.connection()
        try:
            data = json.dumps(body).encode() if body is not None else None
            sent = {"Host": "127.0.0.1", **({"Content-Type": "application/json"} if data else {})}
            connection.request(method, path, body=data, headers={**sent, **(headers or {})})
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, dict(response.getheaders()), parsed
        finally:
            connection.close()

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.output()}")
        try:
            return self.request("GET", "/api/v1/health/")[0] == 200
        except OSError:
            return False
