"""Reconciliation of payments: paid at Stripe but not here, a state behind Stripe's, paid
here but not at Stripe; each found, listed and fixed.

Stripe's side is the recording fake at the SDK's HTTP seam: tests change what "Stripe"
holds and run `manage.py reconcile` as an operator would.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from audit.models import AuditEntry
from catalog.models import Product
from payments.models import (
    ReconciliationMismatch,
    WebhookEvent,
)
from tests.factories import UserFactory
from tests.payments.reconciliation.reconciliation_steps import (
    open_mismatches,
    reconcile,
    succeed_at_stripe,
)

pytestmark = pytest.mark.django_db
Kind = ReconciliationMismatch.Kind


class TestPaidAtStripeNotHere:
    def test_listed_then_fixed_through_the_state_machine(self, start_payment, stripe_fake):
        attempt = start_payment()
        order = attempt.order
        stock_before = {p.pk: (p.stock, p.reserved, p.sold) for p in Product.objects.all()}
        succeed_at_stripe(stripe_fake, attempt)

        listed = reconcile()
        assert f"MISMATCH paid_at_stripe {attempt.stripe_payment_intent_id}" in listed
        assert "here requires_payment, at Stripe succeeded/6800" in listed
        order.refresh_from_db()
        assert order.status == "pending_payment"  # listing changes nothing
        assert open_mismatches() == [(Kind.PAID_AT_STRIPE, attempt.stripe_payment_intent_id)]

        fixed = reconcile("--fix")
        assert "fixed: applied payment_intent.succeeded: processed" in fixed
        order.refresh_from_db()
        attempt.refresh_from_db()
        assert order.status == "paid"
        assert attempt.status == "succeeded" and attempt.amount_received == 6800
        # Same effects as the webhook: stock sold, receipt, audit entries.
        for product in Product.objects.all():
            stock, reserved, sold = stock_before[product.pk]
            quantity = order.lines.get(product=product).quantity
            assert (product.stock, product.reserved, product.sold) == (
                stock,
                reserved - quantity,
                sold + quantity,
            )
        assert [m.subject for m in mail.outbox] == [f"Receipt for order {order.number}"]
        actions = set(AuditEntry.objects.filter(order_id=order.pk).values_list("action", flat=True))
        assert {"payment.succeeded", "reconciliation.fixed"} <= actions
        assert open_mismatches() == []
        row = ReconciliationMismatch.objects.get()
        assert row.resolution.startswith("fixed: applied payment_intent.succeeded")
        event = WebhookEvent.objects.get()
        assert event.source == "reconciliation" and event.status == "processed"

        # Running again finds nothing and changes nothing.
        again = reconcile("--fix")
        assert "MISMATCH" not in again
        assert len(mail.outbox) == 1

    def test_checkout_session_paid_at_stripe(self, start_payment, stripe_fake):
        attempt = start_payment(kind="checkout-session")
        session = stripe_fake.objects[attempt.stripe_checkout_session_id]
        session.update(
            status="complete",
            payment_status="paid",
            amount_total=attempt.amount,
            currency="usd",
            payment_intent="pi_behind_session",
        )
        out = reconcile("--fix")
        assert f"MISMATCH paid_at_stripe {attempt.stripe_checkout_session_id}" in out
        attempt.refresh_from_db()
        assert attempt.order.status == "paid"
        assert attempt.stripe_payment_intent_id == "pi_behind_session"

    def test_amount_short_at_stripe_goes_to_review_not_paid(self, start_payment, stripe_fake):
        attempt = start_payment()
        succeed_at_stripe(stripe_fake, attempt, amount=100)
        reconcile("--fix")
        attempt.order.refresh_from_db()
        assert attempt.order.status == "needs_review"
        assert any("needs review" in m.subject for m in mail.outbox)


class TestPaymentStateBehindStripe:
    def test_a_failed_card_at_stripe_is_recorded_and_the_order_stays_payable(
        self, start_payment, stripe_fake
    ):
        attempt = start_payment()
        stripe_fake.objects[attempt.stripe_payment_intent_id]["last_payment_error"] = {
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
            "type": "card_error",
        }
        out = reconcile("--fix")
        assert f"MISMATCH payment_state {attempt.stripe_payment_intent_id}" in out
        assert (
            "here requires_payment, at Stripe requires_payment_method/0/insufficient_funds" in out
        )
        attempt.refresh_from_db()
        assert attempt.status == "failed"
        assert attempt.failure_message == "Your card has insufficient funds."
        assert attempt.order.status == "pending_payment"
        assert [m.subject for m in mail.outbox] == [
            f"Payment for order {attempt.order.number} did not go through"
        ]

    def test_an_older_state_at_stripe_never_undoes_ours(self, start_payment, stripe_fake):
        attempt = start_payment()
        stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "processing"
        reconcile("--fix")
        attempt.refresh_from_db()
        assert attempt.status == "processing"
        # Stripe now says "requires action", which comes before processing: not a mismatch.
        stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "requires_action"
        assert "MISMATCH" not in reconcile("--fix")
        attempt.refresh_from_db()
        assert attempt.status == "processing"


class TestPaidHereNotAtStripe:
    def test_flagged_for_review_once_then_acknowledged(self, paid, stripe_fake, client):
        stripe_fake.objects[paid.stripe_payment_intent_id].update(
            status="canceled", amount_received=0
        )
        out = reconcile("--fix")
        assert "MISMATCH paid_here_only" in out
        assert "not fixed: order put in needs review" in out
        paid.order.refresh_from_db()
        assert paid.order.status == "needs_review"
        assert len([m for m in mail.outbox if "needs review" in m.subject]) == 1

        reconcile("--fix")  # already with a person: no second alert
        assert len([m for m in mail.outbox if "needs review" in m.subject]) == 1
        [mismatch] = ReconciliationMismatch.objects.filter(resolved_at__isnull=True)

        staff = UserFactory(is_staff=True)
        staff.user_permissions.set(
            Permission.objects.filter(
                codename__in=["view_reconciliationmismatch", "fix_reconciliationmismatch"]
            )
        )
        client.force_login(staff)
        url = f"/admin/payments/reconciliationmismatch/{mismatch.pk}/acknowledge/"
        assert client.get(url).status_code == 200
        done = client.post(url, {"note": "Refunded by bank transfer"})
        assert done.status_code == 302
        mismatch.refresh_from_db()
        assert mismatch.resolution == "acknowledged: Refunded by bank transfer"
        assert mismatch.resolved_by == staff
        assert AuditEntry.objects.filter(action="reconciliation.acknowledged", actor=staff).exists()

        # The same difference is not raised again.
        assert "MISMATCH" not in reconcile()
        assert open_mismatches() == []
