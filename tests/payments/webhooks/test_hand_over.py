"""The hand-over in the request: the event's id on the Redis list and its `received` count
in one round trip; the dispatcher queued by the first id only; Redis down loses nothing."""

import logging
import os

import pytest
from celery import current_app
from django.test import override_settings

from core import redis_client
from observability import metrics
from payments.webhooks import processing

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
