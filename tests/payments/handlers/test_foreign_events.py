"""Events that are not ours: Stripe sends every event of an account to every endpoint.

Dev, staging and CI often share one test account, and shops share live accounts, so a
signed event may be about a PaymentIntent, Session, charge, refund or dispute another
deployment made, with metadata that happens to name one of our orders. Such an event is
stored and ignored at once: no order changes, no retries, no staff alert.
"""

import pytest
from django.core import mail

from audit.models import AuditEntry
from orders.models import Order
from payments.models import Dispute, PaymentAttempt, Refund, WebhookEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def fresh(obj):
    obj.refresh_from_db()
    return obj


def only_event():
    [row] = WebhookEvent.objects.all()
    return row


def assert_ignored_at_once(row):
    """Ignored on its first processing: no retry scheduled, no alert e-mail."""
    assert (row.status, row.attempts, row.next_attempt_at) == ("ignored", 1, None), (
        row.status,
        row.last_error,
    )
    assert not [m for m in mail.outbox if "staff@example.com" in m.to]


def _paid(send_event, attempt):
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    WebhookEvent.objects.all().delete()
    mail.outbox.clear()
    return fresh(attempt)


def foreign_charge(**extra) -> dict:
    return {
        "id": "ch_foreign",
        "object": "charge",
        "amount": 6800,
        "amount_refunded": 6800,
        "currency": "usd",
        "payment_intent": "pi_foreign",
        "refunded": True,
        "metadata": {},
        **extra,
    }


class TestForeignPayments:
    def test_a_foreign_payment_intent_naming_our_order_does_not_pay_it(
        self, send_event, start_payment
    ):
        attempt = start_payment()
        foreign = se.payment_intent(attempt)
        # Another deployment's PaymentIntent whose order 1/attempt 1 collide with ours.
        foreign.update(
            id="pi_foreign",
            metadata={"order_id": str(attempt.order_id), "attempt": str(attempt.number)},
        )

        send_event(se.event("payment_intent.succeeded", foreign))

        assert_ignored_at_once(only_event())
        order = fresh(attempt.order)
        assert order.status == "pending_payment"
        attempt = fresh(attempt)
        assert attempt.status == "requires_payment"
        assert attempt.stripe_payment_intent_id != "pi_foreign"
        assert not AuditEntry.objects.filter(action="payment.succeeded").exists()
        assert not mail.outbox  # no receipt either

    def test_even_with_our_shop_name_another_payment_intent_never_changes_the_order(
        self, send_event, start_payment, settings
    ):
        """Two deployments left with the same SHOP_ID: the recorded id still decides."""
        attempt = start_payment()
        foreign = dict(se.payment_intent(attempt), id="pi_same_shop_name")
        assert foreign["metadata"]["shop"] == settings.SHOP_ID

        send_event(se.event("payment_intent.succeeded", foreign))

        assert_ignored_at_once(only_event())
        assert fresh(attempt.order).status == "pending_payment"
        assert fresh(attempt).stripe_payment_intent_id != "pi_same_shop_name"

    def test_an_event_naming_another_shop_is_ignored(self, send_event, start_payment):
        attempt = start_payment()
        other_shop = se.payment_intent(attempt)
        other_shop["metadata"] = {**other_shop["metadata"], "shop": "staging.example.com"}

        send_event(se.event("payment_intent.succeeded", other_shop))

        assert_ignored_at_once(only_event())
        assert "another shop" in only_event().last_error
        assert fresh(attempt.order).status == "pending_payment"

    def test_a_foreign_session_naming_our_payment_intent_attempt_is_ignored(
        self, send_event, start_payment
    ):
        attempt = start_payment()  # a PaymentIntent attempt: it has no Session id
        foreign = se.checkout_session(attempt)
        foreign.update(id="cs_foreign", metadata={**foreign["metadata"]})

        send_event(se.event("checkout.session.completed", foreign))

        assert_ignored_at_once(only_event())
        attempt = fresh(attempt)
        assert attempt.stripe_checkout_session_id is None
        assert attempt.status == "requires_payment"
        assert fresh(attempt.order).status == "pending_payment"

    def test_a_foreign_session_naming_our_session_attempt_is_ignored(
        self, send_event, start_payment
    ):
        attempt = start_payment("checkout-session")
        foreign = dict(se.checkout_session(attempt), id="cs_foreign")

        send_event(se.event("checkout.session.completed", foreign))

        assert_ignored_at_once(only_event())
        assert fresh(attempt).stripe_payment_intent_id is None
        assert fresh(attempt.order).status == "pending_payment"

    def test_a_payment_intent_without_our_shop_is_not_adopted_by_a_session_attempt(
        self, send_event, start_payment
    ):
        """A Session's PaymentIntent is learnt from events; only ours may be learnt."""
        attempt = start_payment("checkout-session")
        foreign = se.payment_intent(attempt)
        foreign.update(
            id="pi_foreign",
            metadata={"order_id": str(attempt.order_id), "attempt": str(attempt.number)},
        )

        send_event(se.event("payment_intent.succeeded", foreign))

        assert_ignored_at_once(only_event())
        assert fresh(attempt).stripe_payment_intent_id is None
        assert fresh(attempt.order).status == "pending_payment"

    def test_our_session_payment_intent_arriving_first_is_still_recorded(
        self, send_event, start_payment
    ):
        attempt = start_payment("checkout-session")
        ours = dict(se.payment_intent(attempt), id="pi_of_our_session")

        send_event(se.event("payment_intent.succeeded", ours))

        assert only_event().status == "processed"
        attempt = fresh(attempt)
        assert attempt.stripe_payment_intent_id == "pi_of_our_session"
        assert attempt.order.status == "paid"

    def test_an_event_before_our_step_three_still_pays_the_order(self, send_event, start_payment):
        attempt = start_payment()
        pi_id = attempt.stripe_payment_intent_id
        PaymentAttempt.objects.filter(pk=attempt.pk).update(stripe_payment_intent_id=None)

        send_event(se.event("payment_intent.succeeded", dict(se.payment_intent(attempt), id=pi_id)))

        attempt = fresh(attempt)
        assert attempt.stripe_payment_intent_id == pi_id
        assert (attempt.status, attempt.order.status) == ("succeeded", "paid")

    def test_no_metadata_and_an_unknown_object_is_ignored(self, send_event, start_payment):
        attempt = start_payment()
        for event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            bare = dict(se.payment_intent(attempt), id=f"pi_bare_{event_type[15:]}", metadata={})
            send_event(se.event(event_type, bare))
        assert list(WebhookEvent.objects.values_list("status", "attempts")) == [("ignored", 1)] * 2
        assert fresh(attempt).status == "requires_payment"
        assert not mail.outbox


class TestForeignRefundsAndDisputes:
    @pytest.mark.parametrize(
        "event_type", ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"]
    )
    def test_a_refund_of_a_charge_we_never_made_is_ignored_at_once(
        self, send_event, start_payment, event_type
    ):
        attempt = _paid(send_event, start_payment())
        foreign = se.refund(
            "pi_foreign",
            amount=500,
            charge="ch_foreign",
            status="failed" if event_type == "refund.failed" else "succeeded",
            metadata={"order_id": str(attempt.order_id), "refund_uuid": "x"},
        )

        send_event(se.event(event_type, foreign))

        assert_ignored_at_once(only_event())
        assert not Refund.objects.exists()
        assert fresh(attempt.order).amount_refunded == 0

    def test_a_foreign_charge_refunded_is_ignored_at_once(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        send_event(
            se.event(
                "charge.refunded",
                foreign_charge(
                    metadata={"order_id": str(attempt.order_id), "attempt": "1"},
                    refunds={"data": [se.refund("pi_foreign", amount=6800, charge="ch_foreign")]},
                ),
            )
        )
        assert_ignored_at_once(only_event())
        assert fresh(attempt.order).status == "paid"

    @pytest.mark.parametrize(
        "event_type",
        [
            "charge.dispute.created",
            "charge.dispute.updated",
            "charge.dispute.closed",
            "charge.dispute.funds_withdrawn",
        ],
    )
    def test_a_dispute_of_a_charge_we_never_made_is_ignored_at_once(
        self, send_event, start_payment, event_type
    ):
        attempt = _paid(send_event, start_payment())
        foreign = se.dispute("pi_foreign", amount=6800, dispute_id="dp_foreign")
        foreign["charge"] = "ch_foreign"

        send_event(se.event(event_type, foreign))

        assert_ignored_at_once(only_event())
        assert not Dispute.objects.exists()
        assert fresh(attempt.order).status == "paid"

    def test_a_refund_naming_another_shop_is_ignored_even_for_a_known_order(
        self, send_event, start_payment
    ):
        attempt = _paid(send_event, start_payment())
        foreign = se.refund(
            "pi_foreign",
            amount=500,
            charge="ch_foreign",
            metadata={"shop": "ci.example.com", "order_id": str(attempt.order_id)},
        )
        send_event(se.event("refund.updated", foreign))
        assert_ignored_at_once(only_event())

    def test_our_refund_arriving_before_the_payment_is_known_still_waits(
        self, send_event, start_payment, settings
    ):
        """Ours (our shop, a known order) but early: wait for the payment, then apply."""
        attempt = start_payment("checkout-session")
        early = se.refund(
            "pi_from_session",
            amount=1800,
            charge="ch_not_yet",
            refund_id="re_early",
            metadata={"shop": settings.SHOP_ID, "order_id": str(attempt.order_id)},
        )
        send_event(se.event("refund.updated", early))
        row = only_event()
        assert (row.status, row.attempts) == ("received", 1)
        assert row.last_error.startswith("waiting:")

        send_event(se.event("checkout.session.completed", se.checkout_session(attempt)))

        assert fresh(row).status == "processed"
        assert fresh(attempt.order).amount_refunded == 1800

    def test_an_ignored_dispute_applies_once_the_payment_turns_out_to_be_ours(
        self, send_event, start_payment
    ):
        """A dispute names no shop: ignored while its PaymentIntent is unknown, and applied
        as soon as an event of ours records that PaymentIntent."""
        attempt = start_payment("checkout-session")
        send_event(se.event("charge.dispute.created", se.dispute("pi_from_session", amount=6800)))
        assert_ignored_at_once(WebhookEvent.objects.get(type="charge.dispute.created"))

        send_event(se.event("checkout.session.completed", se.checkout_session(attempt)))

        assert WebhookEvent.objects.get(type="charge.dispute.created").status == "processed"
        assert fresh(attempt.order).status == "disputed"
        assert Order.objects.get(pk=attempt.order_id).status == "disputed"


def test_an_order_id_too_large_for_the_database_is_ignored_not_retried(send_event, start_payment):
    attempt = start_payment()
    odd = se.payment_intent(attempt)
    odd.update(id="pi_odd", metadata={**odd["metadata"], "order_id": "9" * 40})
    send_event(se.event("payment_intent.succeeded", odd))
    assert_ignored_at_once(only_event())
