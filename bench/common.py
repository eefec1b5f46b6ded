"""What every benchmark needs: a database, a throw-away Redis, gunicorn, a Celery worker,
the emulator, wrk, and the results files. Everything binds 127.0.0.1 and is stopped by pid.

Results go to var/bench/<name>.md and .json (overwritten by the next run); with `--save`
they go to bench/results/<date>-<name>.md and .json instead, to be committed."""

import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from stripe_emulator.keys import placeholder_key

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"  # dated results kept in the repository (bench/run --save)
SCRATCH = ROOT / "var" / "bench"  # the last run's results otherwise
PY = sys.executable

PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
TEMPLATE_DB = "bench_template"  # migrated once (dj-stripe's migrations take a minute), kept
DB = os.environ.get("BENCH_DB", "bench_shop")  # made from the template per run, dropped after

SECRET_KEY = placeholder_key("sk", "Benchmark")
PUBLISHABLE_KEY = placeholder_key("pk", "Benchmark")
WEBHOOK_SECRET = "whsec_benchmark_only"
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))  # 2 x cores, sync

STARTED: list = []  # every process we start, stopped in reverse order


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=60.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


def database_url(name: str = DB) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def psql(sql: str, db: str = "postgres", timeout: float = 600) -> str:
    out = subprocess.run(
        [
            "psql",
            "-h",
            PG["host"],
            "-p",
            PG["port"],
            "-U",
            PG["user"],
            "-d",
            db,
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
        ],
        input=sql,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr}")
    return out.stdout.strip()


def base_env(**extra) -> dict:
    """The shop's environment for every process of a run (production-like, no DEBUG)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(),
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "INFO",  # as in production (one JSON line a request/task)
        # The limits are not what is measured: a load generator is one IP.
        "RATE_LIMIT_WEBHOOK_PER_IP": "100000000/m",
        "RATE_LIMIT_ORDERS_PER_USER": "100000000/m",
        "RATE_LIMIT_ORDERS_PER_IP": "100000000/m",
        "RATE_LIMIT_PAYMENTS_PER_USER": "100000000/m",
        "RATE_LIMIT_PAYMENTS_PER_IP": "100000000/m",
        "RATE_LIMIT_AUTH_PER_IP": "100000000/m",
        "RATE_LIMIT_REGISTRATIONS_PER_IP": "100000000/m",
        "PAYMENT_FAILURES_PER_HOUR": "100000000",
        "MAX_PENDING_ORDERS": "100000000",
        "MAX_RESERVED_PER_PRODUCT": "100000000",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def ensure_template() -> None:
    """The migrated template: made once (about a minute), then only new migrations."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE_DB}'")
    if exists != "1":
        log(f"creating and migrating {TEMPLATE_DB} (once; about a minute)")
        psql(f'CREATE DATABASE "{TEMPLATE_DB}"')
    env = base_env(DATABASE_URL=database_url(TEMPLATE_DB))
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def create_database() -> None:
    ensure_template()
    drop_database()
    psql(f'CREATE DATABASE "{DB}" TEMPLATE "{TEMPLATE_DB}"')
    log(f"database {DB} created from {TEMPLATE_DB}")


def drop_database() -> None:
    psql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


class Process:
    """A child process with its log in a temporary file, stopped by its pid."""

    def worker_pids(self) -> list[int]:
        """Its own children (gunicorn's workers, a prefork Celery worker's pool)."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    name = "process"

    def __init__(self, argv, env=None, cwd=ROOT):
        self.argv, self.env, self.cwd = argv, env, cwd
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the process)
            prefix=f"bench-{self.name}-", suffix=".log", delete=False
        )
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        STARTED.append(self)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.output()[-3000:]}")
        return True

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self in STARTED:
            STARTED.remove(self)


class Redis(Process):
    name = "redis"

    def __init__(self):
        self.port = free_port()
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
            ]
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        super().start()

        def answers():
            self.alive()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_until(answers, what="redis")
        return self


class Emulator(Process):
    name = "emulator"

    def __init__(self):
        self.port = free_port()
        super().__init__(
            [
                PY,
                "-m",
                "stripe_emulator",
                "--port",
                str(self.port),
                "--quiet",
                "--async-delay-seconds",
                "0",
            ]
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()

        def answers():
            self.alive()
            try:
                return requests.get(f"{self.url}/_emulator/health", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(answers, what="the emulator")
        return self


def emulator_latency(url: str, ms: float) -> None:
    """Make the emulator wait `ms` before every API answer (0: loopback speed)."""
    requests.post(f"{url}/_emulator/latency", json={"ms": ms}, timeout=5).raise_for_status()


class Gunicorn(Process):
    name = "gunicorn"

    def __init__(self, env, workers=GUNICORN_WORKERS):
        self.port = free_port()
        self.workers = workers
        super().__init__(
            [
                PY,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--timeout",
                "60",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            env=env,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()

        def answers():
            self.alive()
            try:
                return requests.get(f"{self.url}/api/v1/health/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, what="gunicorn")
        # warm every worker (imports, first DB connection) before anything is measured
        for _ in range(self.workers * 8):
            requests.post(f"{self.url}/bench/ping", timeout=5)
        return self


class CeleryWorker(Process):
    name = "celery"

    def __init__(self, env, concurrency=1):
        super().__init__(
            [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-c",
                str(concurrency),
                "-P",
                "solo" if concurrency == 1 else "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=env,
        )

    def start(self):
        super().start()
        wait_until(lambda: self.alive() and "ready." in self.output(), what="celery")
        return self


def stop_all():
    for process in reversed(list(STARTED)):
        try:
            process.stop()
        except Exception as exc:  # stop the others whatever happens to one
            log(f"stopping {process.name}: {exc}")


def rss_kib(pid: int) -> dict:
    """Current and peak resident set size of one process (kB, from /proc)."""
    text = Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.MULTILINE))
    return {"rss_kib": int(found.get("VmRSS", 0)), "peak_rss_kib": int(found.get("VmHWM", 0))}


# --- wrk --------------------------------------------------------------------------------
def write_requests(path: Path, host: str, url_path: str, items) -> int:
    """Raw HTTP/1.1 requests for wrk/post.lua: `<length>\\n<bytes>` each; items are
    (headers dict, body bytes)."""
    count = 0
    with path.open("wb") as out:
        for headers, body in items:
            head = f"POST {url_path} HTTP/1.1\r\nHost: {host}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head += f"Content-Length: {len(body)}\r\n\r\n"
            raw = head.encode() + body
            out.write(f"{len(raw)}\n".encode() + raw)
            count += 1
    return count


def process_cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (seconds)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat: how busy the machine is."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wrk(
    url: str,
    requests_file: Path,
    connections: int,
    seconds: float,
    delay_ms=0.0,
    cpu_pids=(),
) -> dict:
    """One wrk run (one thread: the load generator must cost little CPU).

    Besides wrk's numbers: the CPU time `cpu_pids` (the gunicorn workers) spent per
    request, which other load on the machine does not change much, and how busy the whole
    machine was meanwhile (all processes, ours and anybody else's)."""
    cpu_before, busy_before = process_cpu_seconds(cpu_pids), machine_ticks()
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_DELAY_MS": str(delay_ms)}
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    argv += ["-s", str(BENCH / "wrk" / "post.lua"), url]
    out = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
    )
    found = re.search(r"^BENCH (\{.*\})$", out.stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    result = json.loads(found.group(1))
    result["seconds"] = result["duration_us"] / 1e6
    result["ok"] = result["requests"] - result["errors_status"]
    result["ok_per_s"] = result["ok"] / result["seconds"]
    busy_after = machine_ticks()
    result["machine_busy"] = (busy_after[0] - busy_before[0]) / max(
        1, busy_after[1] - busy_before[1]
    )
    if cpu_pids:
        cpu = process_cpu_seconds(cpu_pids) - cpu_before
        result["worker_cpu_ms_per_request"] = cpu * 1000 / max(1, result["requests"])
    return result


# --- reporting --------------------------------------------------------------------------
def machine() -> dict:
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    total = re.search(r"^Mem:\s+(\S+)", mem, re.MULTILINE)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory": total.group(1) if total else "?",
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "postgres": psql("SHOW server_version"),
        "load_before": os.getloadavg(),
        "command": " ".join(["bench/run", *sys.argv[1:]]),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
        return found.group(1) if found else "?"
    except OSError:
        return "?"


def percentile(values, q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


_output = {"dir": SCRATCH, "prefix": ""}


def save_to_results(machine: dict) -> None:
    """From now on write results as bench/results/<date>-<file> (the date the run started)."""
    _output.update(dir=RESULTS, prefix=machine["date"].split()[0] + "-")


def output_path(filename: str) -> Path:
    """Where a result file named `filename` goes: var/bench/, or bench/results/ dated."""
    _output["dir"].mkdir(parents=True, exist_ok=True)
    return _output["dir"] / (_output["prefix"] + filename)


def save(name: str, data: dict, markdown: str) -> None:
    """Print the report; write it (its first heading made the page title) and the raw JSON."""
    json_path, md_path = output_path(f"{name}.json"), output_path(f"{name}.md")
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    title, _, rest = markdown.removeprefix("### ").partition("\n")
    m = data.get("machine") or {}
    machine_line = (
        f"Machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory')} RAM, Python "
        f"{m.get('python')}, PostgreSQL {m.get('postgres')}; started {m.get('date')}; "
        f"`{m.get('command')}`."
    )
    raw = f"Raw numbers: [{json_path.name}]({json_path.name})."
    md_path.write_text(f"# {title}\n\n{machine_line}\n{rest.rstrip()}\n\n{raw}\n")
    print(markdown, flush=True)
    log(f"wrote {os.path.relpath(md_path, ROOT)} and {json_path.name}")


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
