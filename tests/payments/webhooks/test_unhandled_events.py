"""Events of a type no handler applies: stored ignored by the webhook's INSERT, no task."""

import pytest
from celery.signals import task_prerun

from observability import metrics
from payments.handlers import registry
from payments.models import WebhookEvent
from payments.webhooks.replay import replay_events
from tests import stripe_events as se

pytestmark = pytest.mark.django_db

UNHANDLED = se.event("charge.updated", {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"})


@pytest.fixture
def tasks_run():
    """Names of the Celery tasks run (eager: each one queued) while the test runs."""
    names = []

    def ran(sender=None, **kwargs):
        names.append(sender.name)

    task_prerun.connect(ran, weak=False)
    yield names
    task_prerun.disconnect(ran)


def test_an_unhandled_type_is_stored_ignored_and_queues_no_task(send_event, tasks_run):
    response = send_event(UNHANDLED)

    assert response.status_code == 200 and response.json() == {"received": True}
    row = WebhookEvent.objects.get()
    assert (row.stripe_event_id, row.type, row.status) == (
        UNHANDLED["id"],
        "charge.updated",
        "ignored",
    )
    assert row.handled_at is not None and row.handled_at >= row.received_at
    assert row.last_error == "no handler for this event type" and row.attempts == 0
    assert row.payment_intent_id == "pi_1" and row.payload == UNHANDLED
    assert tasks_run == []
    assert metrics.read_counter("webhook_events_received") == {("charge.updated",): 1}
    assert metrics.read_counter("webhook_events_ignored") == {("charge.updated",): 1}


def test_a_duplicate_of_an_unhandled_event_is_acknowledged_and_counted_once(send_event, tasks_run):
    assert send_event(UNHANDLED).status_code == 200
    assert send_event(UNHANDLED).status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"
    assert tasks_run == []
    assert metrics.read_counter("webhook_events_ignored") == {("charge.updated",): 1}
    assert metrics.read_counter("webhook_events_duplicate") == {("charge.updated",): 1}


def test_a_handled_type_is_still_queued_and_applied(send_event, start_payment, tasks_run):
    attempt = start_payment()
    tasks_run.clear()

    response = send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))

    assert response.status_code == 200
    assert tasks_run == ["payments.tasks.process_webhook_event"]
    assert WebhookEvent.objects.get().status == "processed"
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"


def test_staff_can_replay_an_event_stored_ignored(send_event, monkeypatch):
    send_event(UNHANDLED)
    pk = WebhookEvent.objects.get().pk

    [again] = replay_events([pk]).replayed
    assert (again.status, again.last_error, again.attempts) == (
        "ignored",
        "no handler for this event type",
        1,
    )

    # A release that handles the type: the stored event replays through its handler.
    monkeypatch.setitem(registry.HANDLERS, "charge.updated", lambda event: "handled now")
    [applied] = replay_events([pk]).replayed
    assert (applied.status, applied.last_error) == ("processed", "")
