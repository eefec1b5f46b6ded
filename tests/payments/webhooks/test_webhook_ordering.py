"""Events out of order, retried, swept and replayed converge to the right state."""

import pytest
from django.core.management import call_command

from payments.models import PaymentAttempt, WebhookEvent
from payments.webhooks import processing
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def fresh(obj):
    obj.refresh_from_db()
    return obj


def test_a_refund_before_its_payment_waits_then_applies(send_event, start_payment):
    attempt = start_payment()
    pi = attempt.stripe_payment_intent_id
    send_event(se.event("refund.updated", se.refund(pi, amount=1800, refund_id="re_early")))
    early = WebhookEvent.objects.get(type="refund.updated")
    assert (early.status, early.attempts) == ("received", 1)
    assert early.last_error.startswith("waiting:")
    assert early.next_attempt_at is not None

    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))

    order = fresh(attempt.order)
    assert (order.status, order.amount_refunded) == ("partially_refunded", 1800)
    assert fresh(early).status == "processed"


def test_a_dispute_before_the_checkout_payment_is_known_is_ignored_then_applies(
    send_event, start_payment
):
    """A dispute names no shop: until its PaymentIntent is recorded it may be anybody's, so
    it is ignored (no retries); recording the PaymentIntent takes it up again."""
    attempt = start_payment("checkout-session")
    send_event(
        se.event("charge.dispute.created", se.dispute("pi_from_session", amount=attempt.amount))
    )
    assert WebhookEvent.objects.get(type="charge.dispute.created").status == "ignored"
    send_event(se.event("checkout.session.completed", se.checkout_session(attempt)))
    assert fresh(attempt.order).status == "disputed"


def test_success_before_the_attempt_row_has_its_stripe_id(send_event, start_payment, stripe_fake):
    """Stripe's webhook can beat our own request storing the PaymentIntent id."""
    attempt = start_payment()
    pi_id = attempt.stripe_payment_intent_id
    PaymentAttempt.objects.filter(pk=attempt.pk).update(stripe_payment_intent_id=None)
    send_event(se.event("payment_intent.succeeded", dict(se.payment_intent(attempt), id=pi_id)))
    attempt = fresh(attempt)
    assert attempt.status == "succeeded" and attempt.stripe_payment_intent_id == pi_id
    assert attempt.order.status == "paid"


def test_success_before_the_attempt_exists_is_swept_in_once_it_does(
    api, send_event, start_payment, settings
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    attempt = start_payment()
    ghost = se.payment_intent(attempt)
    ghost.update(id="pi_not_yet", metadata={**ghost["metadata"], "attempt": "2"})
    send_event(se.event("payment_intent.succeeded", ghost))
    waiting = WebhookEvent.objects.get()
    assert waiting.status == "received"

    PaymentAttempt.objects.create(
        order=attempt.order,
        number=2,
        kind="payment_intent",
        amount=attempt.amount,
        currency="usd",
        stripe_payment_intent_id="pi_not_yet",
    )
    assert processing.sweep() == 1
    assert fresh(waiting).status == "processed"
    assert fresh(attempt.order).status == "paid"


def test_after_the_last_retry_the_event_fails_and_replay_applies_it(
    send_event, start_payment, settings, capsys
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    attempt = start_payment()
    # A refund of our PaymentIntent, whose success is not recorded (its event went astray).
    orphan = se.refund(attempt.stripe_payment_intent_id, amount=500, refund_id="re_orphan")
    evt = se.event("refund.updated", orphan)
    send_event(evt)
    row = WebhookEvent.objects.get()
    processing.process(row.pk)
    row = fresh(row)
    assert (row.status, row.attempts) == ("failed", 2)

    # The payment is recorded after the last retry; staff replay the failed event.
    _ = send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    call_command("replay_webhook_events", "--failed")
    assert "refund.updated: processed" in capsys.readouterr().out
    assert fresh(attempt.order).amount_refunded == 500

    call_command("replay_webhook_events", "--id", evt["id"])  # again: nothing changes
    assert fresh(attempt.order).amount_refunded == 500


def test_a_late_payment_for_an_attempt_we_just_closed_is_still_recorded(
    api, send_event, start_payment
):
    attempt = start_payment("checkout-session")
    api.post_idem(f"/api/v1/orders/{attempt.order_id}/checkout-session/", {})
    assert fresh(attempt).status == "canceled"
    send_event(se.event("checkout.session.completed", se.checkout_session(attempt)))
    assert fresh(attempt).status == "succeeded"
    assert fresh(attempt.order).status == "paid"


def test_a_lost_task_is_swept_and_a_duplicate_queue_entry_does_nothing(
    anon, stripe_fake, start_payment, settings
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    attempt = start_payment()
    # Delivered, stored, but its task never ran (no on_commit execution here).
    se.deliver(anon, se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    row = WebhookEvent.objects.get()
    assert row.status == "received" and row.attempts == 0

    assert processing.sweep() == 1
    assert fresh(row).status == "processed"
    assert processing.process(row.pk) == processing.SKIPPED
    assert fresh(row).attempts == 1
    assert processing.sweep() == 0


def test_an_older_requires_action_after_the_failure_does_not_reopen_the_attempt(
    send_event, start_payment
):
    """Found by faults/delivery_storm.py: the failure arrived first, then the older event."""
    attempt = start_payment()
    error = {"code": "card_declined", "decline_code": "generic_decline", "message": "Declined."}
    failed = se.payment_intent(attempt, status="requires_payment_method", error=error)
    send_event(se.event("payment_intent.payment_failed", failed, created=1_800_000_010))
    send_event(
        se.event(
            "payment_intent.requires_action",
            se.payment_intent(attempt, status="requires_action"),
            created=1_800_000_000,
        )
    )
    assert fresh(attempt).status == "failed"
    late = WebhookEvent.objects.get(type="payment_intent.requires_action")
    assert late.status == "processed"


def test_a_newer_requires_action_after_a_failure_still_applies(send_event, start_payment):
    """A failed PaymentIntent may need 3-D Secure again on the shopper's next card."""
    attempt = start_payment()
    error = {"code": "card_declined", "decline_code": "generic_decline", "message": "Declined."}
    failed = se.payment_intent(attempt, status="requires_payment_method", error=error)
    send_event(se.event("payment_intent.payment_failed", failed, created=1_800_000_000))
    send_event(
        se.event(
            "payment_intent.requires_action",
            se.payment_intent(attempt, status="requires_action"),
            created=1_800_000_010,
        )
    )
    assert fresh(attempt).status == "requires_action"


def test_funds_withdrawn_arriving_after_a_won_dispute_closed_leaves_them_reinstated(
    send_event, start_payment
):
    """Found by faults/delivery_storm.py: closed (won), reinstated, then the late withdrawal."""
    from payments.models import Dispute

    attempt = start_payment()
    pi = attempt.stripe_payment_intent_id
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    won = se.dispute(pi, amount=attempt.amount, status="won")
    send_event(se.event("charge.dispute.closed", won))
    send_event(se.event("charge.dispute.funds_reinstated", won))
    send_event(
        se.event(
            "charge.dispute.funds_withdrawn",
            se.dispute(pi, amount=attempt.amount, status="needs_response"),
        )
    )
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.funds_withdrawn) == ("won", False)
    assert fresh(attempt.order).status == "paid"


def test_a_lost_dispute_keeps_the_funds_withdrawn_whatever_arrives_last(send_event, start_payment):
    from payments.models import Dispute

    attempt = start_payment()
    pi = attempt.stripe_payment_intent_id
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    send_event(
        se.event("charge.dispute.closed", se.dispute(pi, amount=attempt.amount, status="lost"))
    )
    send_event(
        se.event(
            "charge.dispute.created", se.dispute(pi, amount=attempt.amount, status="needs_response")
        )
    )
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.funds_withdrawn) == ("lost", True)
    assert fresh(attempt.order).status == "charged_back"
