"""Reconciliation of refunds, stuck orders and undelivered events, the hourly beat job, and
the staff page of mismatches.

Stripe's side is the recording fake at the SDK's HTTP seam: tests change what "Stripe"
holds (a refund made in the dashboard, an event it could not deliver) and run
`manage.py reconcile` as an operator would.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEntry
from catalog.models import Product
from orders.models import Order
from payments.models import (
    ReconciliationMismatch,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from tests import stripe_events as se
from tests.factories import UserFactory
from tests.payments.reconciliation.reconciliation_steps import (
    open_mismatches,
    reconcile,
    succeed_at_stripe,
)
from tests.stripe_fake import CONNECTION

pytestmark = pytest.mark.django_db
Kind = ReconciliationMismatch.Kind


class TestRefunds:
    def test_refund_made_at_stripe_only(self, paid, stripe_fake):
        stripe_fake.objects["re_dashboard"] = se.refund(
            paid.stripe_payment_intent_id, amount=1000, refund_id="re_dashboard"
        )
        out = reconcile()
        assert "MISMATCH refund re_dashboard" in out and "here missing" in out

        reconcile("--fix")
        paid.order.refresh_from_db()
        assert paid.order.status == "partially_refunded"
        assert paid.order.amount_refunded == 1000
        refund = Refund.objects.get(stripe_refund_id="re_dashboard")
        assert refund.status == RefundStatus.SUCCEEDED
        assert open_mismatches() == []

    def test_refund_status_behind_here_is_moved_forward(self, paid, stripe_fake):
        Refund.objects.create(
            attempt=paid,
            order=paid.order,
            stripe_refund_id="re_pending_here",
            amount=paid.amount,
            currency="usd",
            status=RefundStatus.PENDING,
        )
        stripe_fake.objects["re_pending_here"] = se.refund(
            paid.stripe_payment_intent_id, amount=paid.amount, refund_id="re_pending_here"
        )
        reconcile("--fix")
        paid.order.refresh_from_db()
        assert paid.order.status == "refunded"
        assert paid.order.amount_refunded == paid.amount

    def test_refund_amount_differs_goes_to_review(self, paid, stripe_fake):
        Refund.objects.create(
            attempt=paid,
            order=paid.order,
            stripe_refund_id="re_other_amount",
            amount=500,
            currency="usd",
            status=RefundStatus.SUCCEEDED,
        )
        stripe_fake.objects["re_other_amount"] = se.refund(
            paid.stripe_payment_intent_id, amount=900, refund_id="re_other_amount"
        )
        out = reconcile("--fix")
        assert "MISMATCH refund re_other_amount" in out
        assert "here succeeded, 5.00 USD, at Stripe succeeded, 9.00 USD" in out
        paid.order.refresh_from_db()
        assert paid.order.status == "needs_review"

    def test_refund_recorded_here_but_unknown_at_stripe_goes_to_review(self, paid, stripe_fake):
        Refund.objects.create(
            attempt=paid,
            order=paid.order,
            stripe_refund_id="re_only_here",
            amount=300,
            currency="usd",
            status=RefundStatus.SUCCEEDED,
        )
        out = reconcile("--fix")
        assert "MISMATCH refund re_only_here" in out and "at Stripe missing" in out
        paid.order.refresh_from_db()
        assert paid.order.status == "needs_review"
        assert open_mismatches() == [(Kind.REFUND, "re_only_here")]

    def test_refund_that_never_reached_stripe_is_sent_with_the_same_key(self, paid, stripe_fake):
        request_uuid = uuid.uuid4()
        refund = Refund.objects.create(
            attempt=paid,
            order=paid.order,
            idempotency_uuid=request_uuid,
            amount=700,
            currency="usd",
            status=RefundStatus.PENDING,
        )
        Refund.objects.filter(pk=refund.pk).update(
            created_at=timezone.now() - timedelta(minutes=30)
        )
        out = reconcile("--fix")
        assert f"MISMATCH refund_unsent refund-{request_uuid}" in out
        [sent] = stripe_fake.sent("POST", "/v1/refunds")
        assert sent.idempotency_key == f"refund-{request_uuid}"
        assert sent.params["amount"] == "700"
        refund.refresh_from_db()
        assert refund.stripe_refund_id == stripe_fake.objects[refund.stripe_refund_id]["id"]
        assert open_mismatches() == []


class TestStuckAndUndelivered:
    def test_order_stuck_past_its_reservation_is_expired_once(self, start_payment, stripe_fake):
        attempt = start_payment()
        order = attempt.order
        Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - timedelta(hours=1))
        reserved_before = {p.pk: p.reserved for p in Product.objects.all()}
        out = reconcile("--fix")
        assert f"MISMATCH stuck_pending order-{order.pk}" in out
        assert "fixed: expired, stock released" in out
        order.refresh_from_db()
        assert order.status == "expired" and order.stock_released
        for product in Product.objects.all():
            quantity = order.lines.get(product=product).quantity
            assert product.reserved == reserved_before[product.pk] - quantity
        assert stripe_fake.sent("POST", f"/v1/payment_intents/{attempt.stripe_payment_intent_id}")
        reconcile("--fix")
        assert {p.pk: p.reserved for p in Product.objects.all()} == {
            pk: reserved_before[pk] - order.lines.get(product_id=pk).quantity
            for pk in reserved_before
        }

    def test_stuck_order_is_not_expired_while_stripe_cannot_say_if_it_was_paid(
        self, start_payment, stripe_fake
    ):
        attempt = start_payment()
        Order.objects.filter(pk=attempt.order_id).update(
            reserved_until=timezone.now() - timedelta(hours=1)
        )
        stripe_fake.fail_next(CONNECTION, CONNECTION, CONNECTION, CONNECTION)
        with pytest.raises(CommandError, match="Stripe could not be read"):
            reconcile("--fix")
        attempt.order.refresh_from_db()
        assert attempt.order.status == "pending_payment"

    def test_undelivered_event_is_fetched_and_processed(self, start_payment, stripe_fake):
        attempt = start_payment()
        succeed_at_stripe(stripe_fake, attempt)
        dropped = se.event("payment_intent.succeeded", se.payment_intent(attempt))
        stripe_fake.events.append({**dropped, "delivered": False})
        out = reconcile("--fix")
        assert f"MISMATCH undelivered_event {dropped['id']}" in out
        event = WebhookEvent.objects.get(stripe_event_id=dropped["id"])
        assert event.source == "events_api" and event.status == "processed"
        attempt.order.refresh_from_db()
        assert attempt.order.status == "paid"
        # The payment check, run after the event, found nothing more to do.
        assert not WebhookEvent.objects.filter(source="reconciliation").exists()
        assert open_mismatches() == []

    def test_another_shops_undelivered_event_is_not_a_mismatch_of_ours(
        self, start_payment, stripe_fake
    ):
        """On a shared Stripe account the Events API lists every shop's failed deliveries."""
        attempt = start_payment()
        theirs = se.payment_intent(attempt)
        theirs.update(id="pi_staging", metadata={**theirs["metadata"], "shop": "staging.test"})
        dropped = se.event("payment_intent.succeeded", theirs)
        stripe_fake.events.append({**dropped, "delivered": False})

        out = reconcile("--fix")

        assert dropped["id"] not in out
        assert open_mismatches() == []
        assert not WebhookEvent.objects.exists()
        attempt.order.refresh_from_db()
        assert attempt.order.status == "pending_payment"

    def test_list_only_changes_nothing_and_a_later_delivery_resolves(
        self, start_payment, stripe_fake, send_event
    ):
        attempt = start_payment()
        succeed_at_stripe(stripe_fake, attempt)
        reconcile()
        assert len(open_mismatches()) == 1
        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
        reconcile()
        row = ReconciliationMismatch.objects.get()
        assert row.resolution == "no longer differs"

    def test_since_must_be_positive(self):
        with pytest.raises(CommandError, match="--since"):
            reconcile("--since", "0")


class TestBeatJob:
    def test_records_without_fixing_unless_auto_fix(self, start_payment, stripe_fake, settings):
        from payments.reconciliation.tasks import reconcile as reconcile_task

        attempt = start_payment()
        succeed_at_stripe(stripe_fake, attempt)
        counts = reconcile_task()
        attempt.order.refresh_from_db()
        assert counts["open"] == 1 and attempt.order.status == "pending_payment"

        settings.RECONCILE_AUTO_FIX = True
        counts = reconcile_task()
        attempt.order.refresh_from_db()
        assert counts["fixed"] == 1 and attempt.order.status == "paid"


class TestAdminPage:
    @pytest.fixture
    def mismatch(self, start_payment, stripe_fake):
        attempt = start_payment()
        succeed_at_stripe(stripe_fake, attempt)
        reconcile()
        return ReconciliationMismatch.objects.get()

    def staff(self, client, *codenames):
        user = UserFactory(is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client.force_login(user)
        return user

    def test_lists_open_mismatches_and_fixes_with_the_button(self, client, mismatch):
        self.staff(client, "view_reconciliationmismatch", "fix_reconciliationmismatch")
        listing = client.get("/admin/payments/reconciliationmismatch/")
        assert listing.status_code == 200
        assert mismatch.subject.encode() in listing.content
        page = client.get(f"/admin/payments/reconciliationmismatch/{mismatch.pk}/change/")
        assert b"Fix with Stripe's truth" in page.content

        done = client.post(
            f"/admin/payments/reconciliationmismatch/{mismatch.pk}/fix/", follow=True
        )
        assert done.redirect_chain[-1][1] == 302
        assert b"fixed: applied payment_intent.succeeded" in done.content
        mismatch.refresh_from_db()
        assert not mismatch.is_open
        assert mismatch.order.status == "paid"
        assert AuditEntry.objects.filter(action="reconciliation.fixed").exists()
        # Resolved ones leave the default (open) list.
        listing = client.get("/admin/payments/reconciliationmismatch/")
        assert mismatch.subject.encode() not in listing.content
        resolved = client.get("/admin/payments/reconciliationmismatch/?state=resolved")
        assert mismatch.subject.encode() in resolved.content

    def test_without_fix_permission_no_button_and_403(self, client, mismatch):
        self.staff(client, "view_reconciliationmismatch")
        page = client.get(f"/admin/payments/reconciliationmismatch/{mismatch.pk}/change/")
        assert page.status_code == 200
        assert b"Fix with Stripe" not in page.content
        url = f"/admin/payments/reconciliationmismatch/{mismatch.pk}/fix/"
        assert client.post(url).status_code == 403
        mismatch.refresh_from_db()
        assert mismatch.is_open and mismatch.order.status == "pending_payment"

    def test_fix_action_on_the_list(self, client, mismatch):
        self.staff(client, "view_reconciliationmismatch", "fix_reconciliationmismatch")
        response = client.post(
            "/admin/payments/reconciliationmismatch/",
            {"action": "fix_selected", "_selected_action": [mismatch.pk]},
        )
        assert response.status_code == 302
        mismatch.refresh_from_db()
        assert not mismatch.is_open
