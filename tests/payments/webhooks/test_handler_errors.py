"""A handler that fails part-way: nothing it wrote stays, the inbox row keeps the error."""

import pytest

from audit.models import AuditEntry
from audit.services import record
from payments.handlers import registry
from payments.models import WebhookEvent
from payments.webhooks import processing
from payments.webhooks.replay import replay_events
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


@pytest.fixture
def half_done_handler(monkeypatch):
    """payment_intent.canceled writes an audit entry, then fails."""

    def half_done(event):
        record("test.half_done", actor_label="stripe", outcome="success")
        raise RuntimeError("bug after a write")

    monkeypatch.setitem(registry.HANDLERS, "payment_intent.canceled", half_done)


def _stored(start_payment, anon):
    attempt = start_payment()
    evt = se.event("payment_intent.canceled", se.payment_intent(attempt, status="canceled"))
    assert se.deliver(anon, evt).status_code == 200  # stored; processed below
    return WebhookEvent.objects.get(stripe_event_id=evt["id"])


def test_a_failing_handler_leaves_nothing_and_the_event_waits_for_a_retry(
    start_payment, anon, half_done_handler
):
    row = _stored(start_payment, anon)

    assert processing.process(row.pk) == processing.RETRY

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("received", 1)
    assert row.last_error == "RuntimeError: bug after a write"
    assert row.next_attempt_at is not None and row.handled_at is None
    assert not AuditEntry.objects.filter(action="test.half_done").exists()


def test_a_replayed_event_that_fails_again_is_failed_with_its_error(
    start_payment, anon, half_done_handler
):
    row = _stored(start_payment, anon)
    WebhookEvent.objects.filter(pk=row.pk).update(status="failed")

    [again] = replay_events([row.pk]).replayed

    assert (again.status, again.attempts) == ("failed", 1)
    assert again.last_error == "RuntimeError: bug after a write"
    assert not AuditEntry.objects.filter(action="test.half_done").exists()
