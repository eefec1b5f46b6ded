"""Reconciliation: each kind of difference with Stripe found, listed, and fixed.

Stripe's side is the recording fake at the SDK's HTTP seam: tests change what "Stripe"
holds (a PaymentIntent that succeeded, a refund made in the dashboard, an event it could
not deliver) and run `manage.py reconcile` as an operator would.
"""

import io
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
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
from tests.stripe_fake import CONNECTION

pytestmark = pytest.mark.django_db
Kind = ReconciliationMismatch.Kind


@pytest.fixture(autouse=True)
def _commits_run(django_capture_on_commit_callbacks):
    """E-mails go out after commit; run those callbacks as a real commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks


def reconcile(*args) -> str:
    out = io.StringIO()
    with _capture(execute=True):
        call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def open_mismatches():
    return list(
        ReconciliationMismatch.objects.filter(resolved_at__isnull=True).values_list(
            "kind", "subject"
        )
    )


def succeed_at_stripe(stripe_fake, attempt, amount=None):
    """The shopper paid, but Stripe's webhook never reached us."""
    intent = stripe_fake.objects[attempt.stripe_payment_intent_id]
    intent.update(
        status="succeeded",
        amount_received=attempt.amount if amount is None else amount,
        latest_charge="ch_paid",
    )
    return intent


@pytest.fixture
def paid(send_event, start_payment, stripe_fake):
    """An order paid through a delivered webhook, Stripe agreeing."""
    attempt = start_payment()
    succeed_at_stripe(stripe_fake, attempt)
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    attempt.refresh_from_db()
    mail.outbox.clear()
    return attempt


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
        assert "here succeeded/500, at Stripe succeeded/900" in out
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
