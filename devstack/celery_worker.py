"""`celery -A config worker`, the sweeper that stands in for beat, and the client side."""

import contextlib
import os
import re
import threading
import time

from devstack.process import PYTHON, Process, terminate

# Celery's worker log lines for a task's life, whatever the log format around them.
_TASK_STATE = re.compile(
    r"Task ([\w.]+)\[([0-9a-f-]{36})\] (received|retry|succeeded|raised|failed|ignored)"
)


class CeleryWorker(Process):
    """`celery -A config worker` with the environment `env` (os.environ when None).

    `broker_url` and `queue`, when given, go into its environment (CELERY_BROKER_URL,
    CELERY_TASK_DEFAULT_QUEUE, and CELERY_TASK_ALWAYS_EAGER=false) and `-Q`; `mailbox`
    receives its e-mails. The pool is `solo` for one task at a time, else `prefork`, unless
    `pool` says otherwise (`threads` keeps the worker one process, so kill -9 takes all of
    it). Ready when its log says "ready." once more than before it was started.
    """

    name = "celery-worker"

    def __init__(
        self,
        env: dict | None = None,
        *,
        queue: str | None = None,
        broker_url: str | None = None,
        mailbox=None,
        pool: str | None = None,
        concurrency: int = 1,
        app: str = "config",
        **options,
    ):
        env = dict(os.environ if env is None else env)
        if broker_url:
            env.update(CELERY_BROKER_URL=broker_url, CELERY_TASK_ALWAYS_EAGER="false")
        if queue:
            env["CELERY_TASK_DEFAULT_QUEUE"] = queue
        if mailbox is not None:
            env["EMAIL_URL"] = mailbox.url
        self.queue, self.mailbox = queue, mailbox
        self.crashes: list[str] = []
        self._ready_before = 0
        self._supervised = threading.Event()
        argv = [PYTHON, "-m", "celery", "-A", app, "worker"]
        if queue:
            argv += ["-Q", queue]
        argv += ["-P", pool or ("solo" if concurrency == 1 else "prefork")]
        argv += ["-c", str(concurrency), "--without-gossip", "--without-mingle"]
        argv += ["--without-heartbeat", "-l", "info"]
        super().__init__(argv, env, **options)

    def spawn(self):
        self._ready_before = self._ready_lines()
        return super().spawn()

    def _ready_lines(self) -> int:
        try:
            return self.log_path.read_bytes().count(b"ready.")
        except OSError:
            return 0

    def ready(self) -> bool:
        return self._ready_lines() > self._ready_before

    def mails(self) -> list[str]:
        return self.mailbox.files() if self.mailbox is not None else []

    def stop(self, timeout: float | None = None) -> None:
        self._supervised.clear()
        super().stop(timeout)

    def supervise(self, note=print) -> None:
        """Start it again whenever it exits on its own, as systemd's Restart=always would.

        Each crash is noted, and kept in `crashes`, with the worker's last critical log
        line: a crash is a finding even when the restart hides it. `stop()` ends this.
        """
        self._supervised.set()

        def watch():
            restarting = False
            while self._supervised.is_set():
                process = self.process
                if not restarting and process is not None and process.poll() is not None:
                    lines = [
                        line
                        for line in self.output(200_000).splitlines()
                        if '"critical"' in line or "Unrecoverable" in line
                    ]
                    why = lines[-1][:300] if lines else f"exit code {process.returncode}"
                    self.crashes.append(why)
                    note(f"WORKER CRASHED (exit {process.returncode}): {why}")
                    restarting = True
                if restarting and self._supervised.is_set():
                    try:
                        self.process = None
                        self.start()
                        restarting = False
                        note(f"supervisor restarted the worker, pid {self.pid}")
                    except Exception as exc:  # the broker may still be down: try again
                        note(f"worker restart failed ({exc}); retrying")
                        terminate(self.process, self.stop_timeout)
                time.sleep(1.0)

        threading.Thread(target=watch, daemon=True).start()


def unfinished_tasks(worker_log: str) -> list[str]:
    """Tasks the worker received and has not finished: running, waiting for their ETA
    (a retry's countdown), or received again for a retry."""
    last = {}
    for name, task_id, state in _TASK_STATE.findall(worker_log):
        last[task_id] = (name, state)
    return [
        f"{name}[{task_id}]"
        for task_id, (name, state) in last.items()
        if state in ("received", "retry")
    ]


@contextlib.contextmanager
def publishing_to(app, broker_url: str, queue: str):
    """Make this process's Celery `app` publish real tasks to `broker_url` / `queue` instead
    of running them eagerly, for as long as the block lasts."""
    conf = app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    conf.broker_url, conf.task_always_eager, conf.task_default_queue = broker_url, False, queue
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved
        app._pool = None
        app.amqp._producer_pool = None


# What beat's sweep tasks call (CELERY_BEAT_SCHEDULE: sweep-webhook-events, send-unsent-emails).
SWEEPS = {
    "payments.webhooks.processing.sweep": "re-queued",
    "notifications.services.send_unsent": "e-mailed",
}


class Sweeper(Process):
    """Beat's sweeps, every `every` seconds instead of every minute (for at most an hour):
    re-queues inbox events whose task was lost, and e-mails a dead worker left unsent."""

    name = "sweeper"

    def __init__(self, env: dict, every: float = 5.0, limit: int = 200, **options):
        imports = "".join(
            f"from {path.rsplit('.', 1)[0]} import {path.rsplit('.', 1)[1]} as call{n}\n"
            for n, path in enumerate(SWEEPS)
        )
        calls = "".join(
            f"        print('{path}', '{verb}', call{n}(limit={limit}), flush=True)\n"
            for n, (path, verb) in enumerate(SWEEPS.items())
        )
        code = (
            "import time, django\n"
            "django.setup()\n"
            "from django.db import close_old_connections\n"
            f"{imports}"
            "deadline = time.monotonic() + 3600\n"
            "while time.monotonic() < deadline:\n"
            "    try:\n"
            f"{calls}"
            "    except Exception as exc:\n"
            "        print('sweep failed:', type(exc).__name__, exc, flush=True)\n"
            "        close_old_connections()\n"
            f"    time.sleep({every})\n"
        )
        super().__init__([PYTHON, "-c", code], env, **options)
