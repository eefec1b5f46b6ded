"""Staff replaying webhook events from the admin: what the message says, and where each
replayed event is listed afterwards."""

import re
from html import unescape

import pytest

from orders.models import Order
from payments.models import WebhookEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db

EVENTS = "/admin/payments/webhookevent/"
FAILED_LIST = f"{EVENTS}?status__exact=failed"


@pytest.fixture
def failed_event(send_event, start_payment, settings):
    """A payment_intent.succeeded naming an attempt not recorded: failed after its tries."""
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    attempt = start_payment()
    intent = se.payment_intent(attempt)
    intent["id"] = "pi_not_recorded"
    intent["metadata"] = {**intent["metadata"], "attempt": "7"}
    send_event(se.event("payment_intent.succeeded", intent, event_id="evt_failing"))
    event = WebhookEvent.objects.get(stripe_event_id="evt_failing")
    assert event.status == "failed"
    settings.WEBHOOK_MAX_ATTEMPTS = 5  # automatic retries would try again five times
    return event, attempt


def make_it_succeed(attempt):
    attempt.number = 7  # the attempt the event names now exists
    attempt.stripe_payment_intent_id = "pi_not_recorded"
    attempt.save()


def replay(client, events, page=EVENTS) -> str:
    response = client.post(
        page, {"action": "replay", "_selected_action": [e.pk for e in events]}, follow=True
    )
    assert response.status_code == 200
    [message] = [unescape(m) for m in re.findall(r'<li class="\w+">(.*?)</li>', response.text)]
    return message


def listed(client, page) -> set[str]:
    return set(re.findall(r"evt_[A-Za-z0-9_]+", client.get(page).text))


@pytest.fixture
def staff(staff_client):
    return staff_client("view_webhookevent", "replay_webhookevent")


def test_replaying_from_the_failed_list_counts_nothing_skipped(staff, failed_event):
    event, attempt = failed_event
    make_it_succeed(attempt)

    message = replay(staff, [event], page=FAILED_LIST)

    assert message == "Replayed 1 event(s): evt_failing processed."
    event.refresh_from_db()
    assert event.status == "processed"
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    assert "evt_failing" not in listed(staff, FAILED_LIST)
    assert "evt_failing" in listed(staff, f"{EVENTS}?status__exact=processed")


def test_an_event_that_fails_again_stays_in_the_failed_list(staff, failed_event):
    event, _ = failed_event  # nothing fixed: it fails again

    message = replay(staff, [event], page=FAILED_LIST)

    assert message.startswith("Replayed 1 event(s): evt_failing failed (waiting: ")
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == ("failed", 1, None)
    assert "evt_failing" in listed(staff, FAILED_LIST)


def test_events_that_do_not_replay_are_counted_with_the_reason(
    staff, failed_event, send_event, start_payment
):
    event, attempt = failed_event
    make_it_succeed(attempt)
    other = start_payment()
    send_event(se.event("payment_intent.succeeded", se.payment_intent(other), event_id="evt_ok"))
    processed = WebhookEvent.objects.get(stripe_event_id="evt_ok")

    message = replay(staff, [event, processed])

    assert message == (
        "Replayed 1 event(s): evt_failing processed. Skipped 1: only failed or ignored "
        "events replay (evt_ok is processed)."
    )
    processed.refresh_from_db()
    assert (processed.status, processed.attempts) == ("processed", 1)
