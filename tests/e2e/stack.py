"""The whole shop as real processes on loopback, for the end-to-end suite.

gunicorn serves the project, a Celery worker processes the webhook inbox, the Stripe
emulator plays Stripe and delivers signed webhooks to gunicorn, a throw-away Redis is the
cache and the broker, and PostgreSQL is the test database pytest-django made. Nothing is
patched: the test talks HTTP to gunicorn and to the emulator, and reads the database and
the e-mails the processes wrote.
"""

import os
import time
import uuid

import requests

import devstack
from devstack import current_database_url, raised_limits, unfinished_tasks, wait_until
from stripe_emulator.keys import placeholder_key

# dj-stripe (the mirror) accepts only keys shaped like Stripe's.
SECRET_KEY = placeholder_key("sk", "EndToEndSuite")
PUBLISHABLE_KEY = placeholder_key("pk", "EndToEndSuite")
WEBHOOK_SECRET = "whsec_end_to_end_suite"


class Stack(devstack.Stack):
    """Start everything on the test database; `stop()` ends every process it started."""

    def __init__(self, **extra_env):
        env = {
            **os.environ,
            "DEBUG": "true",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": current_database_url(),
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_READ_TIMEOUT": "3",
            "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
            "WEBHOOK_MAX_ATTEMPTS": "30",
            **raised_limits(1000),
        }
        super().__init__(env, name="e2e", webhook_secret=WEBHOOK_SECRET, **extra_env)

    def settle(self, timeout: float = 30) -> None:
        """Wait until Stripe, the broker and the worker have nothing left to do.

        Each test's database flush must not race the worker over rows it is still writing:
        the inbox, and the mirror tasks that processing an event queues after its commit
        (and the e-mails a task sends before it finishes). A message between the broker and
        the worker's log is in neither for an instant, so quiet must be seen twice in a row.
        """
        from payments.models import WebhookEvent

        def quiet() -> bool:
            _, deliveries = self.emulator.control("GET", "/webhooks")
            return (
                deliveries.get("queued") == 0
                and deliveries.get("held") == 0
                and not WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists()
                and self.queued_tasks() == 0
                and not unfinished_tasks(self.worker.output())
            )

        def quiet_twice() -> bool:
            if not quiet():
                return False
            time.sleep(0.25)
            return quiet()

        try:
            wait_until(quiet_twice, timeout=timeout, interval=0.2, what="the stack to settle")
        except AssertionError as exc:
            busy = unfinished_tasks(self.worker.output())
            raise AssertionError(f"{exc}; unfinished tasks: {busy}\n{self.logs()}") from exc


class Shopper:
    """A shopper's front end: the storefront API over HTTP, with a token."""

    def __init__(self, stack: Stack, email: str | None = None):
        self.stack = stack
        self.http = requests.Session()
        self.email = email or f"shopper-{uuid.uuid4().hex[:8]}@example.com"
        answer = self.http.post(
            f"{stack.url}/api/v1/auth/register/",
            json={"email": self.email, "password": "correct horse battery 42"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        self.http.headers["Authorization"] = f"Token {answer.json()['token']}"

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.stack.url}/api/v1/{path}", timeout=10)

    def post(self, path: str, body=None, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return self.http.post(
            f"{self.stack.url}/api/v1/{path}", json=body or {}, headers=headers, timeout=30
        )

    def order(self, product_id: int, quantity: int = 1) -> dict:
        added = self.post("cart/lines/", {"product_id": product_id, "quantity": quantity})
        assert added.status_code == 201, added.text
        created = self.post("orders/", {})
        assert created.status_code == 201, created.text
        return created.json()

    def wait_for_status(self, order_id: int, *statuses: str, timeout: float = 30) -> dict:
        seen = {}

        def reached():
            seen.update(self.get(f"orders/{order_id}/").json())
            return seen["status"] in statuses

        try:
            wait_until(reached, timeout=timeout, interval=0.2, what=f"order in {statuses}")
        except AssertionError as exc:
            raise AssertionError(
                f"order {order_id} is {seen.get('status')}\n{self.stack.logs()}"
            ) from exc
        return seen


def confirm_as_stripe_js(stack: Stack, started: dict, payment_method: str) -> requests.Response:
    """What Stripe.js does in the browser: confirm with the publishable key and the secret."""
    return requests.post(
        f"{stack.emulator.url}/v1/payment_intents/{started['payment_intent_id']}/confirm",
        data={"client_secret": started["client_secret"], "payment_method": payment_method},
        headers={"Authorization": f"Bearer {started['publishable_key']}"},
        timeout=10,
    )


def eventually(check, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
