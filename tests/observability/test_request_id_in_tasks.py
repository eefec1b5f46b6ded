"""The request id of a webhook delivery follows it into the real Celery worker."""

import json
import uuid

import pytest

from audit.models import AuditEntry
from config.celery import app as celery_app
from devstack import RedisServer, publishing_to, wait_until
from payments.models import WebhookEvent
from tests import stripe_events as se
from tests.conftest import ShopClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"STRIPE_SECRET_KEY": "sk_test_worker", "STRIPE_WEBHOOK_SECRETS": "whsec_test_secret"}


@pytest.fixture
def broker():
    redis = RedisServer().start()
    yield redis
    redis.stop()


def test_the_worker_logs_and_audits_under_the_delivery_request_id(
    broker, start_payment, start_celery_worker
):
    attempt = start_payment()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    evt = se.event("payment_intent.succeeded", se.payment_intent(attempt))
    with publishing_to(celery_app, broker.url, queue):
        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            # When Stripe delivers an event with a request id of its own
            response = se.deliver(ShopClient(), evt, HTTP_X_REQUEST_ID="stripe-delivery-42")
            assert response["X-Request-ID"] == "stripe-delivery-42"
            row = WebhookEvent.objects.get()
            wait_until(
                lambda: WebhookEvent.objects.get(pk=row.pk).status == "processed",
                what="the event processed by the worker",
            )
        finally:
            worker.stop()

    # Then the audit entry the worker wrote carries the delivery's request id ...
    entry = AuditEntry.objects.get(action="payment.succeeded")
    assert entry.request_id == "stripe-delivery-42"
    # ... and so do the worker's JSON log lines for that task, with the event's ids.
    lines = [line for line in json_lines(worker) if line.get("stripe_event_id") == evt["id"]]
    assert lines, worker.output()[-2000:]
    assert {line["request_id"] for line in lines} == {"stripe-delivery-42"}
    [processed] = [line for line in lines if line["logger"] == "payments.webhooks.processing"]
    assert processed["event"] == f"webhook event {evt['id']} (payment_intent.succeeded) processed"
    assert processed["stripe_event_id"] == evt["id"]
    assert processed["order_id"] == attempt.order_id


def json_lines(worker) -> list[dict]:
    return [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]


def test_events_applied_in_one_batch_keep_their_own_delivery_request_ids(
    broker, start_payment, start_celery_worker
):
    first, second = start_payment(), start_payment()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with publishing_to(celery_app, broker.url, queue):
        # Both are delivered before any worker runs: one dispatcher applies both.
        for attempt, request_id in ((first, "delivery:one"), (second, "delivery-two")):
            evt = se.event("payment_intent.succeeded", se.payment_intent(attempt))
            se.deliver(ShopClient(), evt, HTTP_X_REQUEST_ID=request_id)
        worker = start_celery_worker(broker.url, queue, **WORKER_ENV)
        try:
            wait_until(
                lambda: WebhookEvent.objects.filter(status="processed").count() == 2,
                what="both events processed by the worker",
            )
        finally:
            worker.stop()

    entries = AuditEntry.objects.filter(action="payment.succeeded")
    assert {(e.order_id, e.request_id) for e in entries} == {
        (first.order_id, "delivery:one"),
        (second.order_id, "delivery-two"),
    }
    processed = {
        line["order_id"]: line["request_id"]
        for line in json_lines(worker)
        if line["logger"] == "payments.webhooks.processing"
    }
    assert processed == {first.order_id: "delivery:one", second.order_id: "delivery-two"}
