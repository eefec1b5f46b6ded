"""What every fault run starts from: a throw-away database and the shop as real processes.

Each run starts its own processes on free loopback ports (devstack): a Redis (cache and
broker), the Stripe emulator (when the run needs Stripe), gunicorn, a Celery worker and a
sweeper (a loop calling the inbox sweep, as beat would, but every few seconds). The database
is cloned from `faults_template`, which `manage.py migrate` builds once (again only when a
migration is missing), and dropped at the end. The machine's own PostgreSQL and Redis are
never stopped: runs that stop or restart a server start their own.

The rest: `reporting` (steps and invariant lines), `injection` (signed events, seeded
orders), `invariants` (the checks the runs share).
"""

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reporting import Report  # noqa: E402

from devstack import DatabaseServer, Stack, raised_limits  # noqa: E402
from stripe_emulator.keys import placeholder_key  # noqa: E402

# The machine's PostgreSQL: only databases named faults_* are created and dropped there.
PG_SERVER = os.environ.get("FAULTS_PG_URL", "postgres://postgres@127.0.0.1:5432")
TEMPLATE = "faults_template"

SECRET_KEY = placeholder_key("sk", "FaultRuns")
PUBLISHABLE_KEY = placeholder_key("pk", "FaultRuns")
WEBHOOK_SECRET = "whsec_fault_runs"

# What the shop runs with besides its database, processes and keys (extra= wins).
RUN_SETTINGS = {
    "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOK_RETRY_MAX_SECONDS": "10",
    "WEBHOOK_MAX_ATTEMPTS": "30",
    "WEBHOOK_SWEEP_GRACE_SECONDS": "20",
    "STRIPE_MAX_NETWORK_RETRIES": "0",
    "STRIPE_READ_TIMEOUT": "3",
    **raised_limits(100_000, webhook_per_minute=1_000_000),
}


# --- databases --------------------------------------------------------------------------
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
    env = base_env("", CELERY_TASK_ALWAYS_EAGER="true")
    DatabaseServer(PG_SERVER).ensure_migrated(TEMPLATE, env, note=report.step)


@contextlib.contextmanager
def fault_database(name: str, report: Report):
    """A fresh database `faults_<name>` cloned from the migrated template; dropped after."""
    ensure_template(report)
    server, db = DatabaseServer(PG_SERVER), f"faults_{name}"
    url = server.clone(TEMPLATE, db)
    report.step(f"database {db} cloned from {TEMPLATE}")
    try:
        yield url
    finally:
        if os.environ.get("FAULTS_KEEP_DB") != "1":
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            server.drop(db)


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


# --- the shop ---------------------------------------------------------------------------
class Shop(Stack):
    """Redis, optionally the emulator, gunicorn (2 workers x 4 threads), a Celery worker
    (one process, 3 threads) and the sweeper (every 5 s), on the run's database.

    `emulator_args` go to the emulator (otherwise the fast retry schedule with the
    emulator's own base and timeout: 1 s, 10 s; a run needs retries within seconds, not
    Stripe's hours); `extra` to the shop's environment. The process logs stay in `log_dir`.
    """

    def __init__(self, database_url: str, *, emulator: bool = False, emulator_args=(), **extra):
        super().__init__(
            base_env(database_url, **{**RUN_SETTINGS, **extra}),
            name="faults",
            emulator=emulator,
            emulator_args=emulator_args,
            emulator_options={
                "retry_schedule": "fast",
                "retry_base_seconds": None,
                "webhook_timeout_seconds": 10,
            },
            webhook_secret=WEBHOOK_SECRET,
            worker_options={"pool": "threads", "concurrency": 3},
            gunicorn_options={"workers": 2, "threads": 4},
            sweeper=True,
        )
        if self.emulator is not None:
            self.emulator.api_key = SECRET_KEY

    def stop(self) -> None:
        super().stop()  # the e-mails were counted already; the logs stay for a look after
        print(f"process logs: {self.log_dir}", flush=True)
