"""The shop as real processes on loopback, for the tests, the end-to-end suite, `bench/` and
`faults/` (a development tool: not installed with the project, and no app imports it).

One module a job:

- `ports`: free loopback ports, `wait_until`;
- `process`: `Process`, a child process with its output in a log file, started, waited for
  until it is ready, and stopped by its own pid (`stop_all()` stops what is still running);
- `redis_server`, `emulator`, `gunicorn`, `celery_worker`: a private `redis-server`, the
  Stripe emulator, `gunicorn config.wsgi:application`, `celery -A config worker` (and the
  sweeper that stands in for beat);
- `database`: scratch PostgreSQL databases (a migrated template, clones, drops), `psql`;
  `postgres_cluster`: a private PostgreSQL cluster that a run may stop and start;
- `mailbox`: the e-mails the processes write (Django's file backend);
- `webhook_receiver`: a loopback HTTP server that records what it is sent;
- `commands`: `manage.py` in a subprocess;
- `stack`: `Stack`, Redis + the emulator + a Celery worker + gunicorn (+ the sweeper) sharing
  one environment;
- `production`: `ProductionStack`, the shop deployed by docs/deploy.md's marked steps in a
  scratch folder (gunicorn, worker and beat from the guide's commands); `deploy_smoke`: the
  checks of `scripts/deploy-smoke` on it.

Every server binds 127.0.0.1 on a free port; nothing here stops a process it did not start.
"""

from devstack.celery_worker import CeleryWorker, Sweeper, publishing_to, unfinished_tasks
from devstack.commands import manage
from devstack.database import DatabaseServer, current_database_url, psql
from devstack.emulator import Emulator
from devstack.gunicorn import Gunicorn
from devstack.mailbox import Mailbox
from devstack.ports import WaitTimedOut, free_port, port_open, wait_until
from devstack.postgres_cluster import PostgresCluster
from devstack.process import PYTHON, ROOT, Process, ProcessExited, stop_all
from devstack.redis_server import RedisServer
from devstack.stack import Stack, raised_limits
from devstack.webhook_receiver import WebhookReceiver

__all__ = [
    "PYTHON",
    "ROOT",
    "CeleryWorker",
    "DatabaseServer",
    "Emulator",
    "Gunicorn",
    "Mailbox",
    "PostgresCluster",
    "Process",
    "ProcessExited",
    "RedisServer",
    "Stack",
    "Sweeper",
    "WaitTimedOut",
    "WebhookReceiver",
    "current_database_url",
    "free_port",
    "manage",
    "port_open",
    "psql",
    "publishing_to",
    "raised_limits",
    "stop_all",
    "unfinished_tasks",
    "wait_until",
]
