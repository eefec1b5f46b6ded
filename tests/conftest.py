import io
import logging
import logging.config
import os
import uuid

import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from structlog.stdlib import ProcessorFormatter

from devstack import CeleryWorker, Mailbox, WebhookReceiver, current_database_url
from tests import staff
from tests import stripe_events as se
from tests.factories import ProductFactory, UserFactory, token_for

# The suite reads log lines as JSON objects, the production format (with DEBUG on, as here,
# the default is console). The processes tests start inherit it; `make run`'s own test
# starts it with no environment, so it sees the development default.
if os.environ.setdefault("LOG_FORMAT", "json") != settings.LOG_FORMAT:
    from observability.logging import logging_config

    settings.LOG_FORMAT = os.environ["LOG_FORMAT"]
    settings.LOGGING = logging_config(
        level=os.environ.get("LOG_LEVEL", "INFO"), fmt=settings.LOG_FORMAT
    )
    logging.config.dictConfig(settings.LOGGING)


def pytest_collection_modifyitems(config, items):
    needs_postgres = [item for item in items if item.get_closest_marker("postgres")]
    if not needs_postgres or connection.vendor == "postgresql":
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run on PostgreSQL: set DATABASE_URL (scripts/run-tests)")
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks); set DATABASE_URL to run it")
    for item in needs_postgres:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production hashing is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_task_left_running():
    # Eager tasks started from several threads at once can leave Celery's process-wide
    # "inside a task" flag set (test_eager_tasks_across_threads.py), and every later wait on
    # a result would then refuse to run.
    yield
    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


class ShopClient(APIClient):
    """An API client that speaks JSON and can add an Idempotency-Key in one word."""

    def post(self, path, data=None, format="json", idempotency_key=None, **extra):
        if idempotency_key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        return super().post(path, data, format=format, **extra)

    def post_idem(self, path, data=None, **extra):
        return self.post(path, data, idempotency_key=uuid.uuid4().hex, **extra)

    def patch(self, path, data=None, format="json", **extra):
        return super().patch(path, data, format=format, **extra)


@pytest.fixture
def anon():
    return ShopClient()


@pytest.fixture
def user(db):
    """A shopper who has paid here before: their Stripe customer exists already."""
    from payments.models import StripeCustomer

    shopper = UserFactory()
    StripeCustomer.objects.create(user=shopper, stripe_customer_id=f"cus_known_{shopper.pk}")
    return shopper


@pytest.fixture
def client_for():
    def make(user):
        client = ShopClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return make


@pytest.fixture
def api(user, client_for):
    return client_for(user)


@pytest.fixture
def product(db):
    return ProductFactory()


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]["code"]


@pytest.fixture
def stripe_fake(settings):
    """Stripe's HTTP layer replaced by a recording fake; test keys configured."""
    from payments.gateway import client as stripe_client
    from tests.stripe_fake import FAKE_SECRET_KEY, FakeStripe

    settings.STRIPE_SECRET_KEY = FAKE_SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_test_secret"]
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake = FakeStripe()
    stripe_client.use_http_client(fake)
    yield fake
    stripe_client.use_http_client(None)


@pytest.fixture
def send_event(anon, stripe_fake, django_capture_on_commit_callbacks):
    """Deliver a signed event and run what commits queue (eager Celery: processing)."""
    from tests.stripe_events import deliver

    def send(evt, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(anon, evt, **kwargs)

    return send


@pytest.fixture
def start_payment(api, stripe_fake):
    """An order for `user` with a started payment: returns its PaymentAttempt."""
    from payments.models import PaymentAttempt

    def start(kind="payment-intent", lines=((2500, 2), (1800, 1)), currency="usd"):
        products = [
            ProductFactory(unit_amount=amount, currency=currency, stock=5) for amount, _ in lines
        ]
        body = {
            "lines": [
                {"product_id": p.pk, "quantity": q}
                for p, (_, q) in zip(products, lines, strict=True)
            ]
        }
        order_id = api.post_idem("/api/v1/orders/", body).json()["id"]
        response = api.post_idem(f"/api/v1/orders/{order_id}/{kind}/", {})
        assert response.status_code == 201, response.content
        return PaymentAttempt.objects.filter(order_id=order_id).latest("number")

    return start


@pytest.fixture
def start_celery_worker():
    """`start_celery_worker(broker_url, queue, **env)`: a real `celery -A config worker` on
    the test database, consuming `queue`, its e-mails in `worker.mails()`; stopped after."""
    started = []

    def start(broker_url: str, queue: str, **env) -> CeleryWorker:
        environment = {
            **os.environ,
            "DATABASE_URL": current_database_url(),
            **{key: str(value) for key, value in env.items()},
        }
        worker = CeleryWorker(
            environment, queue=queue, broker_url=broker_url, mailbox=Mailbox("worker-mail-")
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
        worker.mailbox.remove()


# --- the Stripe emulator's tests (each module starts its own `emulator`) -------------------
@pytest.fixture(scope="module")
def receiver():
    """A loopback webhook receiver recording what the emulator delivers."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def fresh_emulator(emulator, receiver):
    """An empty emulator (faults and delivery modes too) and no delivery recorded."""
    assert emulator.control("POST", "/reset")[0] == 200
    receiver.clear()


@pytest.fixture
def order(api):
    """The shopper's order of two tees and a mug (61.00 USD), placed through the API."""
    from orders.models import Order

    tee = ProductFactory(name="Tee", unit_amount=2500, stock=5)
    mug = ProductFactory(name="Mug", unit_amount=1800, stock=5)
    body = {"lines": [{"product_id": tee.pk, "quantity": 2}, {"product_id": mug.pk, "quantity": 1}]}
    response = api.post_idem("/api/v1/orders/", body)
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["id"])


# --- the back office (helpers in tests/staff.py) ----------------------------------------
@pytest.fixture
def staff_client(client):
    def login(*codenames):
        user = staff.staff_with(*codenames)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def paid_order(send_event, start_payment):
    attempt = start_payment()
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    attempt.refresh_from_db()
    mail.outbox.clear()
    return attempt.order


# --- logs -------------------------------------------------------------------------------
@pytest.fixture
def log_output():
    """What the configured root handlers write, as text, with every logger at DEBUG."""
    root = logging.getLogger()
    buffer = io.StringIO()
    handlers_and_streams = [
        (handler, handler.setStream(buffer))
        for handler in root.handlers
        if isinstance(handler.formatter, ProcessorFormatter)  # not pytest's own capture
    ]
    assert handlers_and_streams, "no stream handler configured"
    level = root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in handlers_and_streams:
        handler.setStream(stream)
