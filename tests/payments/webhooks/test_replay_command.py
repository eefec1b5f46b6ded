"""`manage.py replay_webhook_events` as an operator runs it: each event as it is processed,
then a summary by outcome with the time taken; the orders change as the events say."""

import io
import re

import pytest
from django.core.management import call_command

from payments.models import WebhookEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def replay(*args) -> list[str]:
    out = io.StringIO()
    call_command("replay_webhook_events", *args, stdout=out)
    return out.getvalue().splitlines()


def test_each_event_then_a_summary_by_outcome(anon, start_payment, stripe_fake):
    attempt = start_payment()
    paid = se.event("payment_intent.succeeded", se.payment_intent(attempt), created=1)
    other = se.event(  # another shop's: ignored when processed
        "payment_intent.canceled", {"id": "pi_x", "object": "payment_intent"}, created=2
    )
    for evt in (paid, other):  # stored, never processed (the hand-over was lost)
        assert se.deliver(anon, evt).status_code == 200
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}

    lines = replay()

    assert lines[0] == "Replaying 2 event(s) still received."
    assert lines[1] == f"[1/2] {paid['id']} payment_intent.succeeded: processed"
    assert lines[2] == (
        f"[2/2] {other['id']} payment_intent.canceled: ignored (not one of this shop's "
        "recorded payments (unknown id, no order in the metadata))"
    )
    assert re.fullmatch(
        r"Replayed 2 event\(s\): 0 received, 1 processed, 1 ignored, 0 failed; took \d+\.\ds\.",
        lines[3],
    ), lines[3]
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"


def test_nothing_to_replay_says_so():
    lines = replay("--failed")
    assert lines[0] == "Replaying 0 failed event(s)."
    assert lines[1].startswith("Replayed 0 event(s): 0 received, 0 processed, 0 ignored, 0 failed")
