"""Webhook processing by a real Celery worker on a real Redis broker (PostgreSQL)."""

import json
import re
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from audit.models import AuditEntry
from config.celery import app as celery_app
from core import redis_client
from devstack import RedisServer, publishing_to, wait_until
from payments.models import PaymentAttempt, WebhookEvent
from payments.webhooks import processing, tasks
from tests import stripe_events as se
from tests.conftest import ShopClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "STRIPE_SECRET_KEY": "sk_test_worker",
    "STRIPE_WEBHOOK_SECRETS": "whsec_test_secret",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
    "WEBHOOK_MAX_ATTEMPTS": "30",
}


@pytest.fixture
def broker():
    redis = RedisServer().start()
    yield redis
    redis.stop()


@pytest.fixture
def queue():
    return f"test-{uuid.uuid4().hex[:8]}"


def status_of(row):
    row.refresh_from_db()
    return row.status


def pending_ids() -> list[int]:
    """The ids of the events on the hand-over list (each entry: `<id>:<request id>`)."""
    entries = redis_client.client().lrange(redis_client.key(processing.PENDING_KEY), 0, -1)
    return [int(entry.split(b":")[0]) for entry in entries]


def test_a_burst_of_events_queues_one_dispatcher_and_the_worker_processes_every_event(
    broker, queue, start_payment, start_celery_worker
):
    attempt = start_payment()
    # Handled types (another shop's PaymentIntents, ignored by processing) and ours; then
    # types no handler applies, which the webhook stores ignored and never queues.
    foreign = {"object": "payment_intent", "metadata": {}}
    burst = [
        se.event("payment_intent.processing", {**foreign, "id": f"pi_other_{n}"}) for n in range(20)
    ]
    burst.append(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    burst += [se.event("customer.created", {"id": f"cus_{n}"}) for n in range(5)]
    with publishing_to(celery_app, broker.url, queue):
        for event in burst:
            assert se.deliver(ShopClient(), event).status_code == 200

        # No worker yet: the broker holds one message, the dispatcher, for 21 events; the
        # 5 of a type no handler applies were stored ignored and queued nothing.
        messages = redis.Redis.from_url(broker.url).lrange(queue, 0, -1)
        assert [json.loads(m)["headers"]["task"] for m in messages] == [
            "payments.tasks.dispatch_webhook_events"
        ]
        assert len(pending_ids()) == 21
        assert WebhookEvent.objects.filter(status="ignored", attempts=0).count() == 5

        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            wait_until(
                lambda: not WebhookEvent.objects.filter(status="received").exists(),
                what="every event processed",
            )
        finally:
            worker.stop()

    assert pending_ids() == []
    # 21 events, 20 a batch: the first dispatcher queued a second; no task per event.
    received = re.findall(
        r"Task (payments\.tasks\.\w+_webhook_events?)\[\S+\] received", worker.output()
    )
    assert received == ["payments.tasks.dispatch_webhook_events"] * 2
    assert WebhookEvent.objects.filter(status="ignored").count() == 25
    assert WebhookEvent.objects.get(type="payment_intent.succeeded").attempts == 1
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"
    assert AuditEntry.objects.filter(action="payment.succeeded").count() == 1


def test_with_the_broker_down_events_are_accepted_and_the_sweep_processes_them_later(
    broker, queue, start_payment, settings, start_celery_worker
):
    attempt = start_payment()
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    with publishing_to(celery_app, broker.url, queue):
        broker.stop()
        response = se.deliver(
            ShopClient(), se.event("payment_intent.succeeded", se.payment_intent(attempt))
        )
        assert response.status_code == 200
        row = WebhookEvent.objects.get()
        assert (row.status, row.attempts) == ("received", 0)
        assert pending_ids() == [row.pk]  # its dispatcher could not be queued

        broker.start()  # the broker is back (same port); a worker consumes the queue
        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            assert tasks.sweep_webhook_events() == 1  # what beat runs every minute
            assert pending_ids() == []
            wait_until(lambda: status_of(row) == "processed", what="the swept event")
            assert processing.sweep() == 0

            def receipts():
                return [m for m in worker.mails() if "Receipt for order" in m]

            # The receipt is sent by its own task once the payment has committed.
            wait_until(lambda: len(receipts()) == 1, what="the receipt")
        finally:
            worker.stop()

    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"
    assert AuditEntry.objects.filter(action="payment.succeeded").count() == 1
    assert row.attempts == 1
    assert len(receipts()) == 1


def test_the_worker_retries_an_early_event_with_backoff_until_its_attempt_exists(
    broker, queue, start_payment, start_celery_worker
):
    attempt = start_payment()
    early = se.payment_intent(attempt)
    early.update(
        id="pi_second",
        metadata={"order_id": str(attempt.order_id), "attempt": "2", "shop": settings.SHOP_ID},
    )
    with publishing_to(celery_app, broker.url, queue):
        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            se.deliver(ShopClient(), se.event("payment_intent.succeeded", early))
            row = WebhookEvent.objects.get()
            wait_until(lambda: WebhookEvent.objects.get(pk=row.pk).attempts >= 2, what="a retry")
            assert status_of(row) == "received"
            assert "waiting" in row.last_error

            # Our own request stores attempt 2 a moment later.
            PaymentAttempt.objects.create(
                order=attempt.order,
                number=2,
                kind="payment_intent",
                amount=attempt.amount,
                currency="usd",
                stripe_payment_intent_id="pi_second",
            )
            wait_until(lambda: status_of(row) == "processed", what="the retried event")
        finally:
            worker.stop()
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"
    assert row.attempts >= 3


def worker_backends() -> dict[int, str]:
    """PostgreSQL sessions of this database other than the test's own: pid -> start time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return dict(cursor.fetchall())


def test_the_worker_keeps_one_database_connection_from_event_to_event(
    broker, queue, start_payment, start_celery_worker
):
    """A new PostgreSQL session per event (Celery's default for Django) forks a server process
    for every payment: the worker keeps its connection, as a web process does."""
    with publishing_to(celery_app, broker.url, queue):
        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            seen = []
            for _ in range(2):
                attempt = start_payment()
                evt = se.event("payment_intent.succeeded", se.payment_intent(attempt))
                assert se.deliver(ShopClient(), evt).status_code == 200
                wait_until(
                    lambda: not WebhookEvent.objects.filter(status="received").exists(),
                    what="the event processed",
                )
                seen.append(worker_backends())
        finally:
            worker.stop()
    # The session that applied the first event is still open after the second.
    assert seen[0], "the worker closed its connection after its task"
    assert seen[0].items() <= seen[1].items()
    assert WebhookEvent.objects.filter(status="processed").count() == 2
