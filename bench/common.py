"""What every benchmark needs besides the processes (devstack): the database, the shop's
environment, wrk, /proc readings and the results files. Everything binds 127.0.0.1; the
processes are stopped by pid (`devstack.stop_all()` at the end of `bench/run`).

Results go to var/bench/<name>.md and .json (overwritten by the next run); with `--save`
they go to bench/results/<date>-<name>.md and .json instead, to be committed."""

import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from devstack import CeleryWorker, DatabaseServer, Emulator, Gunicorn, RedisServer, raised_limits
from devstack import psql as run_psql
from stripe_emulator.keys import placeholder_key

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"  # dated results kept in the repository (bench/run --save)
SCRATCH = ROOT / "var" / "bench"  # the last run's results otherwise
PY = sys.executable

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
TEMPLATE_DB = "bench_template"  # migrated once (dj-stripe's migrations take a minute), kept
DB = os.environ.get("BENCH_DB", "bench_shop")  # made from the template per run, dropped after

SECRET_KEY = placeholder_key("sk", "Benchmark")
PUBLISHABLE_KEY = placeholder_key("pk", "Benchmark")
WEBHOOK_SECRET = "whsec_benchmark_only"
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))  # 2 x cores, sync
LOGS = {"log_prefix": "bench-"}  # $TMPDIR/bench-<process>-<random>.log


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def database_url(name: str = DB) -> str:
    return f"{PG_SERVER}/{name}"


def psql(sql: str, db: str = "postgres", timeout: float = 600) -> str:
    return run_psql(database_url(db), sql, timeout=timeout)


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
        **raised_limits(100_000_000, webhook_per_minute=100_000_000),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def create_database() -> None:
    """`bench_shop`, afresh from the migrated template (made and migrated the first time)."""
    server = DatabaseServer(PG_SERVER)
    server.ensure_migrated(TEMPLATE_DB, base_env(), note=log)
    server.clone(TEMPLATE_DB, DB)
    log(f"database {DB} created from {TEMPLATE_DB}")


def drop_database() -> None:
    DatabaseServer(PG_SERVER).drop(DB)


# --- the processes (devstack), as the benchmarks run them -------------------------------
def redis() -> RedisServer:
    return RedisServer(**LOGS).start()


def emulator() -> Emulator:
    """No webhook endpoint; its own retry and timeout defaults; no request log."""
    return Emulator(
        quiet=True, retry_base_seconds=None, webhook_timeout_seconds=None, **LOGS
    ).start()


def gunicorn(env: dict, workers: int = GUNICORN_WORKERS) -> Gunicorn:
    """gunicorn with sync workers, each warmed up (imports, first database connection)
    before anything is measured."""
    web = Gunicorn(
        env, workers=workers, worker_class="sync", backlog=2048, log_level="warning", **LOGS
    ).start()
    for _ in range(workers * 8):
        requests.post(f"{web.url}/bench/ping", timeout=5)
    return web


def celery_worker(env: dict, concurrency: int = 1) -> CeleryWorker:
    """On the default queue; `-P solo` for one, else prefork."""
    return CeleryWorker(env, concurrency=concurrency, **LOGS).start()


def celery_workers(env: dict, count: int) -> list[CeleryWorker]:
    """`count` separate `-P solo` worker processes (the unit a deployment multiplies),
    spawned together, then each waited for until it is ready."""
    workers = [CeleryWorker(env, **LOGS).spawn() for _ in range(count)]
    for worker in workers:
        worker.wait_ready()
    return workers


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


def postgres_cpu_seconds() -> tuple[dict[int, float], float]:
    """PostgreSQL's CPU so far on this machine: (user + system seconds of each live server
    process by pid, `postgres` in /proc/<pid>/comm; the seconds of the postmaster's children
    that have ended). A backend lives as long as its connection, which can be short (a
    request's, or a task's in code older than core/task_connections.py): its time then
    shows only in its parent's cutime and cstime, once it is reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    live, reaped, parents = {}, 0.0, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        live[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        parents[pid] = (int(fields[1]), (int(fields[13]) + int(fields[14])) / ticks)
    for ppid, children in parents.values():
        if ppid not in live:  # the postmaster: its parent is not PostgreSQL
            reaped += children
    return live, reaped


class CpuWatch:
    """CPU spent between `CpuWatch(...)` and `.stop()`: the whole machine (busy share of
    all cores), some processes (`pids`), and every PostgreSQL process of the server on this
    machine (those that ended meanwhile included; on a shared server, other databases' work
    counts too). A thread also counts, every `every` s, the active backends of `database`
    by what they wait for (`CPU`: nothing; `Lock`: a row or table lock another transaction
    holds; `IO`, `LWLock`, ...): pg_stat_activity."""

    def __init__(self, pids=(), database: str = DB, every: float = 0.5):
        self.pids, self.database, self.every = list(pids), database, every
        self.started = time.monotonic()
        self.busy_before = machine_ticks()
        self.pids_before = process_cpu_seconds(self.pids)
        self.postgres_before = postgres_cpu_seconds()
        self.waits: dict[str, int] = {}  # what the database's active backends were doing
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        import psycopg

        with psycopg.connect(database_url(self.database), autocommit=True) as conn:
            while not self.done.wait(self.every):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'active' "
                    "AND pid <> pg_backend_pid() GROUP BY 1"
                ).fetchall()
                for kind, count in rows:
                    self.waits[kind] = self.waits.get(kind, 0) + count

    def _postgres(self) -> float:
        (before, reaped_before), (after, reaped_after) = (
            self.postgres_before,
            postgres_cpu_seconds(),
        )
        live = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        ended = sum(cpu for pid, cpu in before.items() if pid not in after)  # now in `reaped`
        return live + (reaped_after - reaped_before) - ended

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        postgres = self._postgres()
        seconds = time.monotonic() - self.started
        busy_after = machine_ticks()
        cores = os.cpu_count() or 1
        return {
            "seconds": seconds,
            "machine_busy": (busy_after[0] - self.busy_before[0])
            / max(1, busy_after[1] - self.busy_before[1]),
            "pids_cpu_s": process_cpu_seconds(self.pids) - self.pids_before,
            "postgres_cpu_s": postgres,
            "postgres_share": postgres / max(seconds * cores, 1e-9),  # of all cores
            "backend_samples": dict(self.waits),  # active backends seen, by wait event type
        }


def wrk(
    url: str,
    requests_file: Path,
    connections: int,
    seconds: float,
    delay_ms=0.0,
    cpu_pids=(),
    rate=0.0,
    once=False,
    until=None,
) -> dict:
    """One wrk run (one thread: the load generator must cost little CPU).

    `delay_ms`: each connection's pause before each request; `rate`: requests a second in
    all, on a schedule, whatever the connections; `once`: the file once, no repeats (see
    bench/wrk/post.lua); `until`: a function asked every 0.5 s, wrk is stopped (SIGINT: it
    reports what it did) once it returns true, else after `seconds`. Besides wrk's
    numbers: the CPU time `cpu_pids` (the gunicorn workers) spent per request, which other
    load on the machine does not change much, and how busy the whole machine was meanwhile
    (all processes, ours and anybody else's)."""
    cpu_before, busy_before = process_cpu_seconds(cpu_pids), machine_ticks()
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_DELAY_MS": str(delay_ms)}
    env.update(BENCH_RATE=str(rate), BENCH_ONCE="1" if once else "")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    argv += ["-s", str(BENCH / "wrk" / "post.lua"), url]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + seconds + 60
    while until is not None and process.poll() is None and time.monotonic() < deadline:
        if until():
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.5)
    try:
        stdout, stderr = process.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    found = re.search(r"^BENCH (\{.*\})$", stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk failed: {stdout}\n{stderr}")
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
    if "Machine:" in rest:  # the report states the machine itself (ingest)
        machine_line = f"Python {m.get('python')}; started {m.get('date')}."
    raw = f"Raw numbers: [{json_path.name}]({json_path.name})."
    md_path.write_text(f"# {title}\n\n{machine_line}\n{rest.rstrip()}\n\n{raw}\n")
    print(markdown, flush=True)
    log(f"wrote {os.path.relpath(md_path, ROOT)} and {json_path.name}")


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
