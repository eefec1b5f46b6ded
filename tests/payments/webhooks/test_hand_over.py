"""The hand-over in the request: the event's id on the Redis list and its `received` count
in one round trip; the dispatcher queued by the first id only; Redis down loses nothing."""

import logging
import os

import pytest
from celery import current_app
from django.db import OperationalError
from django.test import override_settings

from core import redis_client
from observability import metrics
from orders.models import Order
from payments.models import WebhookEvent
from payments.webhooks import inbox, processing
from tests import stripe_events as se

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis (the hand-over list); set REDIS_URL"
)
RECEIVED = "webhook_events_received"


@pytest.fixture
def with_a_broker(monkeypatch):
    """Events handed over through Redis, as with a real worker; dispatchers queued counted."""
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    client = redis_client.client()
    client.delete(redis_client.key(processing.PENDING_KEY))
    metrics.reset()
    queued = []
    monkeypatch.setattr(processing, "_queue_dispatcher", lambda: queued.append(1))
    yield client, queued
    current_app.conf.task_always_eager = eager
    client.delete(redis_client.key(processing.PENDING_KEY))
    metrics.reset()


def _pending(client) -> list[bytes]:
    return client.lrange(redis_client.key(processing.PENDING_KEY), 0, -1)


def test_each_event_is_listed_and_counted_and_only_the_first_queues_the_dispatcher(
    with_a_broker,
):
    client, queued = with_a_broker
    processing.hand_over(101, "payment_intent.succeeded")
    processing.hand_over(102, "payment_intent.succeeded")
    processing.hand_over(103, "charge.refunded")

    assert _pending(client) == [b"103", b"102", b"101"]  # the dispatcher takes the oldest first
    assert metrics.read_counter(RECEIVED) == {
        ("payment_intent.succeeded",): 2,
        ("charge.refunded",): 1,
    }
    assert len(queued) == 1


def test_with_redis_unreachable_the_event_is_left_to_the_sweep(with_a_broker, caplog):
    unreachable = override_settings(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens there
    with unreachable, caplog.at_level(logging.WARNING, logger="payments.webhooks.processing"):
        processing.hand_over(301, "payment_intent.succeeded")  # no exception: the row is safe
    assert "the sweep will queue it" in caplog.text


@pytest.mark.django_db
def test_an_event_whose_processing_breaks_leaves_the_rest_of_its_batch_applied(
    start_payment, with_a_broker, monkeypatch, caplog
):
    """One event of a dispatcher's batch raises outside its handler (the database dropped
    the connection as the inbox row was claimed): it stays "received" for the sweep, and the
    events after it in the batch are applied now, as their own tasks would have been."""
    client, _ = with_a_broker
    attempts = [start_payment() for _ in range(3)]
    pks = [
        inbox.store_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))[0]
        for attempt in attempts
    ]
    for pk in pks:
        client.lpush(redis_client.key(processing.PENDING_KEY), str(pk))
    claim = processing.claim_event

    def claim_or_break(event_pk):
        if event_pk == pks[1]:
            raise OperationalError("server closed the connection unexpectedly")
        return claim(event_pk)

    monkeypatch.setattr(processing, "claim_event", claim_or_break)
    with caplog.at_level(logging.ERROR, logger="payments.webhooks.processing"):
        assert processing.apply_pending() == 3

    rows = {row.pk: row for row in WebhookEvent.objects.filter(pk__in=pks)}
    assert [(rows[pk].status, rows[pk].attempts) for pk in pks] == [
        ("processed", 1),
        ("received", 0),
        ("processed", 1),
    ]
    assert [Order.objects.get(pk=a.order_id).status for a in attempts] == [
        "paid",
        "pending_payment",
        "paid",
    ]
    assert f"webhook event {pks[1]} not applied" in caplog.text
    assert _pending(client) == []
