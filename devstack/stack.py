"""`Stack`: the shop as real processes sharing one environment."""

import tempfile
import uuid
from pathlib import Path

from devstack.celery_worker import CeleryWorker, Sweeper
from devstack.commands import manage
from devstack.emulator import Emulator
from devstack.gunicorn import Gunicorn
from devstack.mailbox import Mailbox
from devstack.redis_server import RedisServer

WEBHOOK_PATH = "/api/v1/webhooks/stripe/"


def raised_limits(count: int, *, webhook_per_minute: int | None = None) -> dict:
    """The rate limits and abuse caps set to `count` (a minute, an hour, at once): out of the
    way of a load generator, which is one client address and a handful of shoppers. The
    webhook's own limit only when `webhook_per_minute` is given."""
    names = ("ORDERS_PER_USER", "ORDERS_PER_IP", "PAYMENTS_PER_USER", "PAYMENTS_PER_IP")
    limits = {f"RATE_LIMIT_{name}": f"{count}/m" for name in names}
    limits.update(
        RATE_LIMIT_AUTH_PER_IP=f"{count}/m",
        RATE_LIMIT_REGISTRATIONS_PER_IP=f"{count}/m",
        PAYMENT_FAILURES_PER_HOUR=str(count),
        MAX_PENDING_ORDERS=str(count),
        MAX_RESERVED_PER_PRODUCT=str(count),
    )
    if webhook_per_minute is not None:
        limits["RATE_LIMIT_WEBHOOK_PER_IP"] = f"{webhook_per_minute}/m"
    return limits


class Stack:
    """A private Redis (cache and broker), the Stripe emulator delivering signed webhooks to
    gunicorn (unless `emulator=False`), a Celery worker on a queue of its own, gunicorn, and
    the sweeper when `sweeper=True`; started in that order, all on free loopback ports.

    `env` is the shop's environment (DATABASE_URL, keys, settings); the stack adds its own
    REDIS_URL, CELERY_BROKER_URL, CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_ALWAYS_EAGER=false,
    EMAIL_URL (its `mailbox`), STRIPE_API_BASE and FRONTEND_URL, then `extra`. The processes'
    logs go to `log_dir` (a new temp dir by default) and stay there. `stop()` ends every
    process it started; when starting fails halfway, those already started are stopped.
    """

    def __init__(
        self,
        env: dict,
        *,
        name: str = "stack",
        emulator: bool = True,
        emulator_args=(),
        emulator_options: dict | None = None,
        webhook_secret: str | None = None,
        worker_options: dict | None = None,
        gunicorn_options: dict | None = None,
        sweeper: bool = False,
        log_dir: str | Path | None = None,
        **extra,
    ):
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"{name}-logs-"))
        self.mailbox = Mailbox(prefix=f"{name}-mail-")
        self.queue = f"{name}-{uuid.uuid4().hex[:8]}"
        self.redis = self.emulator = self.worker = self.web = self.sweeper = None
        logs = {"log_dir": self.log_dir}
        try:
            self.redis = RedisServer(**logs).start()
            self.web = Gunicorn(None, **(gunicorn_options or {}), **logs)  # its port, for now
            own = {
                "REDIS_URL": self.redis.url,
                "CELERY_BROKER_URL": self.redis.url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "CELERY_TASK_DEFAULT_QUEUE": self.queue,
                "EMAIL_URL": self.mailbox.url,
            }
            if emulator:
                self.emulator = Emulator(
                    *emulator_args,
                    webhook_urls=[f"{self.web.url}{WEBHOOK_PATH}"],
                    webhook_secret=webhook_secret,
                    **(emulator_options or {}),
                    **logs,
                ).start()
                own.update(STRIPE_API_BASE=self.emulator.url, FRONTEND_URL=f"{self.url}/shop/")
            self.env = {**env, **own, **{key: str(value) for key, value in extra.items()}}
            self.worker = CeleryWorker(
                self.env, queue=self.queue, **(worker_options or {}), **logs
            ).start()
            self.web.env = self.env
            self.web.start()
            if sweeper:
                self.sweeper = Sweeper(self.env, **logs).start()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return self.web.url

    def processes(self) -> list:
        started = (self.sweeper, self.web, self.worker, self.emulator, self.redis)
        return [process for process in started if process is not None]

    def queued_tasks(self) -> int:
        """Messages waiting in the broker for the worker (-1: Redis does not answer)."""
        return self.redis.queued_messages(self.queue)

    def mail_subjects(self) -> list[str]:
        return self.mailbox.subjects()

    def mail_headers(self) -> list[tuple[str, str]]:
        return self.mailbox.headers()

    def manage(self, *args: str, timeout: float = 120, check: bool = False):
        """`manage.py <args>` in the stack's environment, as an operator would run it."""
        return manage(*args, env=self.env, timeout=timeout, check=check)

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"--- {process.name} ({process.log_path})\n{process.output(tail)}"
            for process in self.processes()
            if process is not self.redis
        )

    def stop(self) -> None:
        for process in self.processes():
            try:
                process.stop()
            except Exception as exc:  # stop the others whatever happens to one
                print(f"stopping {process.name}: {exc}", flush=True)
        self.mailbox.remove()  # whoever needed the e-mails has read them
