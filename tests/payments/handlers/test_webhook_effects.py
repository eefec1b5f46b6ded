"""Every Stripe event type the shop handles, with what a shopper, staff and Stripe would see."""

import pytest
from django.core import mail

from audit.models import AuditEntry
from catalog.models import Product
from orders.models import Order
from payments.models import Dispute, PaymentAttempt, Refund, WebhookEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def fresh(obj):
    obj.refresh_from_db()
    return obj


def stock_of(order):
    return sorted(
        Product.objects.filter(pk__in=order.lines.values("product_id")).values_list(
            "stock", "reserved", "sold"
        )
    )


def cart_size(api):
    return len(api.get("/api/v1/cart/").json()["lines"])


def _expire_session(send_event, attempt):
    """Stripe's word that the attempt's Checkout Session expired unpaid."""
    send_event(
        se.event(
            "checkout.session.expired",
            se.checkout_session(attempt, status="expired", payment_status="unpaid"),
        )
    )


def _paid(send_event, attempt):
    response = send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    assert response.status_code == 200
    return fresh(attempt)


class TestPayments:
    def test_checkout_session_completed_paid(self, api, user, send_event, start_payment, product):
        api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
        attempt = start_payment("checkout-session")
        order = attempt.order
        assert stock_of(order) == [(3, 2, 0), (4, 1, 0)]

        send_event(se.event("checkout.session.completed", se.checkout_session(attempt)))

        attempt, order = fresh(attempt), fresh(order)
        assert attempt.status == "succeeded" and attempt.amount_received == 6800
        assert attempt.stripe_payment_intent_id == "pi_from_session"
        assert order.status == "paid"
        assert stock_of(order) == [(3, 0, 2), (4, 0, 1)]
        assert cart_size(api) == 1  # the order did not take that line (test_paid_cart.py)
        [receipt] = mail.outbox
        assert receipt.to == [user.email]
        assert order.number in receipt.subject and "68.00 USD" in receipt.body
        assert AuditEntry.objects.filter(action="payment.succeeded", order_id=order.pk).count() == 1

    def test_checkout_session_unpaid_then_async_success(self, send_event, start_payment):
        attempt = start_payment("checkout-session")
        send_event(
            se.event(
                "checkout.session.completed", se.checkout_session(attempt, payment_status="unpaid")
            )
        )
        assert fresh(attempt).status == "processing"
        assert fresh(attempt.order).status == "pending_payment"

        send_event(
            se.event("checkout.session.async_payment_succeeded", se.checkout_session(attempt))
        )
        assert fresh(attempt).status == "succeeded"
        assert fresh(attempt.order).status == "paid"

    def test_async_failure_keeps_the_order_payable_and_the_cart(
        self, api, send_event, start_payment, product
    ):
        api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
        attempt = start_payment("checkout-session")
        send_event(
            se.event(
                "checkout.session.completed", se.checkout_session(attempt, payment_status="unpaid")
            )
        )
        send_event(
            se.event(
                "checkout.session.async_payment_failed",
                se.checkout_session(attempt, payment_status="unpaid"),
            )
        )

        attempt = fresh(attempt)
        assert attempt.status == "failed" and attempt.failure_code == "async_payment_failed"
        assert fresh(attempt.order).status == "pending_payment"
        assert cart_size(api) == 1
        [email] = mail.outbox
        assert "did not go through" in email.subject

    def test_checkout_session_expired_releases_stock(self, send_event, start_payment):
        attempt = start_payment("checkout-session")
        _expire_session(send_event, attempt)
        assert fresh(attempt).status == "canceled"
        order = fresh(attempt.order)
        assert order.status == "expired"
        assert stock_of(order) == [(5, 0, 0), (5, 0, 0)]

    def test_session_expiry_keeps_the_order_when_another_attempt_is_alive(
        self, api, send_event, start_payment, stripe_fake
    ):
        attempt = start_payment("checkout-session")
        api.post_idem(f"/api/v1/orders/{attempt.order_id}/payment-intent/", {})
        _expire_session(send_event, attempt)
        assert fresh(attempt.order).status == "pending_payment"

    def test_session_expiry_keeps_the_order_while_its_next_payment_is_being_created(
        self, send_event, start_payment
    ):
        """The shopper continues paying by card: the shop saves the new attempt, expires the
        old Session at Stripe, then asks Stripe for the PaymentIntent. The Session's expiry
        can be applied before the PaymentIntent's id is stored: the order must not expire
        under a payment the shopper is about to make."""
        attempt = start_payment("checkout-session")
        PaymentAttempt.objects.create(
            order=attempt.order,
            number=attempt.number + 1,
            kind=PaymentAttempt.Kind.PAYMENT_INTENT,
            amount=attempt.amount,
            currency=attempt.currency,
        )  # no Stripe id yet: its creation at Stripe is under way
        _expire_session(send_event, attempt)
        assert fresh(attempt).status == "canceled"
        order = fresh(attempt.order)
        assert order.status == "pending_payment"
        assert stock_of(order) == [(3, 2, 0), (4, 1, 0)]

    def test_payment_intent_succeeded(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        assert attempt.status == "succeeded"
        assert attempt.stripe_charge_id == f"ch_for_{attempt.pk}"
        assert fresh(attempt.order).status == "paid"
        assert len(mail.outbox) == 1

    @pytest.mark.parametrize(
        ("type_", "status"),
        [
            ("payment_intent.processing", "processing"),
            ("payment_intent.requires_action", "requires_action"),
            ("payment_intent.amount_capturable_updated", "authorized"),
            ("payment_intent.canceled", "canceled"),
        ],
    )
    def test_intermediate_payment_intent_events(self, send_event, start_payment, type_, status):
        attempt = start_payment()
        send_event(se.event(type_, se.payment_intent(attempt, status="x")))
        assert fresh(attempt).status == status
        assert fresh(attempt.order).status == "pending_payment"

    def test_payment_failed(self, api, send_event, start_payment, product):
        api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
        attempt = start_payment()
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        }
        send_event(
            se.event(
                "payment_intent.payment_failed",
                se.payment_intent(attempt, status="requires_payment_method", error=error),
            )
        )
        attempt = fresh(attempt)
        assert attempt.status == "failed"
        assert (attempt.failure_code, attempt.failure_message) == (
            "insufficient_funds",
            "Your card has insufficient funds.",
        )
        assert fresh(attempt.order).status == "pending_payment"
        assert cart_size(api) == 1
        [email] = mail.outbox
        assert "Your card has insufficient funds." in email.body
        payment = api.get(f"/api/v1/orders/{attempt.order_id}/payment/").json()
        assert payment["failure_message"] == "Your card has insufficient funds."

        # The shopper tries again on the same PaymentIntent and it works.
        _paid(send_event, attempt)
        assert fresh(attempt.order).status == "paid"

    def test_a_failure_after_a_success_changes_nothing(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        send_event(
            se.event(
                "payment_intent.payment_failed",
                se.payment_intent(
                    attempt, status="requires_payment_method", error={"message": "late"}
                ),
            )
        )
        assert fresh(attempt).status == "succeeded"
        assert fresh(attempt.order).status == "paid"
        assert WebhookEvent.objects.filter(status="processed").count() == 2

    @pytest.mark.parametrize("change", [{"amount_received": 100}, {"currency": "eur"}])
    def test_money_that_disagrees_with_the_order_goes_to_review(
        self, send_event, start_payment, change
    ):
        attempt = start_payment()
        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt, **change)))
        order = fresh(attempt.order)
        assert order.status == "needs_review"
        [alert] = mail.outbox
        assert alert.to == ["staff@example.com"] and "needs review" in alert.subject
        assert AuditEntry.objects.filter(action="order.needs_review").exists()
        assert not AuditEntry.objects.filter(action="payment.succeeded").exists()

    def test_payment_for_a_cancelled_order_goes_to_review(self, api, send_event, start_payment):
        attempt = start_payment()
        order = attempt.order
        Order.objects.filter(pk=order.pk).update(status="cancelled")
        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
        assert fresh(order).status == "needs_review"

    def test_a_second_successful_attempt_goes_to_review(self, api, send_event, start_payment):
        first = start_payment("checkout-session")
        response = api.post_idem(f"/api/v1/orders/{first.order_id}/payment-intent/", {})
        pi_attempt = PaymentAttempt.objects.get(
            stripe_payment_intent_id=response.json()["payment_intent_id"]
        )
        send_event(se.event("payment_intent.succeeded", se.payment_intent(pi_attempt)))
        assert fresh(first.order).status == "paid"
        send_event(se.event("checkout.session.completed", se.checkout_session(first)))
        assert fresh(first.order).status == "needs_review"
        assert fresh(first).failure_code == "duplicate_payment"

    def test_events_about_orders_that_are_not_ours_are_ignored(self, send_event, start_payment):
        attempt = start_payment()
        foreign = se.payment_intent(attempt)
        foreign.update(id="pi_elsewhere", metadata={"order_id": "987654", "attempt": "1"})
        send_event(se.event("payment_intent.succeeded", foreign))
        no_metadata = dict(foreign, metadata={})
        send_event(se.event("payment_intent.succeeded", no_metadata))
        assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["ignored"] * 2
        assert fresh(attempt.order).status == "pending_payment"


class TestRefunds:
    def test_partial_then_full_refund(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        pi = attempt.stripe_payment_intent_id
        send_event(
            se.event(
                "refund.created", se.refund(pi, amount=1800, status="pending", refund_id="re_1")
            )
        )
        assert fresh(attempt.order).amount_refunded == 0
        send_event(se.event("refund.updated", se.refund(pi, amount=1800, refund_id="re_1")))
        order = fresh(attempt.order)
        assert (order.status, order.amount_refunded) == ("partially_refunded", 1800)
        send_event(se.event("charge.refund.updated", se.refund(pi, amount=5000, refund_id="re_2")))
        order = fresh(attempt.order)
        assert (order.status, order.amount_refunded) == ("refunded", 6800)
        assert fresh(attempt).amount_refunded == 6800
        assert Refund.objects.count() == 2

    def test_a_failed_refund_gives_the_money_back_to_the_total_and_alerts_staff(
        self, send_event, start_payment
    ):
        attempt = _paid(send_event, start_payment())
        pi = attempt.stripe_payment_intent_id
        send_event(se.event("refund.updated", se.refund(pi, amount=1000, refund_id="re_1")))
        mail.outbox.clear()
        send_event(
            se.event("refund.failed", se.refund(pi, amount=1000, refund_id="re_1", status="failed"))
        )
        order = fresh(attempt.order)
        assert (order.status, order.amount_refunded) == ("paid", 0)
        [alert] = mail.outbox
        assert "Refund re_1 failed" in alert.subject

    def test_a_refunds_audit_entry_carries_the_refunds_amount(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())  # 68.00 paid
        pi = attempt.stripe_payment_intent_id
        pending = se.refund(pi, amount=500, status="pending", refund_id="re_5")
        send_event(se.event("refund.created", pending))
        send_event(se.event("refund.updated", se.refund(pi, amount=500, refund_id="re_5")))
        entries = AuditEntry.objects.filter(action="refund.updated", order_id=attempt.order_id)
        assert [(e.amount, e.currency) for e in entries] == [(500, "usd")] * 2

    def test_charge_refunded_with_its_refund_list(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        charge = {
            "id": attempt.stripe_charge_id,
            "object": "charge",
            "payment_intent": attempt.stripe_payment_intent_id,
            "amount": 6800,
            "amount_refunded": 6800,
            "refunded": True,
            "refunds": {
                "object": "list",
                "data": [se.refund(attempt.stripe_payment_intent_id, amount=6800)],
            },
        }
        send_event(se.event("charge.refunded", charge))
        assert fresh(attempt.order).status == "refunded"


class TestDisputes:
    def test_dispute_lost(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        pi = attempt.stripe_payment_intent_id
        mail.outbox.clear()
        send_event(se.event("charge.dispute.created", se.dispute(pi, amount=6800)))
        order = fresh(attempt.order)
        assert order.status == "disputed"
        dispute = Dispute.objects.get()
        assert (dispute.status, dispute.reason) == ("needs_response", "fraudulent")
        assert dispute.evidence_due_by is not None
        send_event(se.event("charge.dispute.funds_withdrawn", se.dispute(pi, amount=6800)))
        assert fresh(dispute).funds_withdrawn
        send_event(
            se.event("charge.dispute.updated", se.dispute(pi, amount=6800, status="under_review"))
        )
        send_event(se.event("charge.dispute.closed", se.dispute(pi, amount=6800, status="lost")))
        assert fresh(order).status == "charged_back"
        assert [m.subject for m in mail.outbox] == [
            f"[shop alert] Dispute opened on order {order.number}",
            f"[shop alert] Dispute on order {order.number} closed: lost",
        ]

    def test_a_dispute_first_heard_of_closed_leaves_the_same_trail(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        pi = attempt.stripe_payment_intent_id
        send_event(se.event("charge.dispute.closed", se.dispute(pi, amount=6800, status="lost")))
        send_event(se.event("charge.dispute.created", se.dispute(pi, amount=6800)))  # late
        assert fresh(attempt.order).status == "charged_back"
        actions = list(
            AuditEntry.objects.filter(order_id=attempt.order_id, action__startswith="dispute.")
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == ["dispute.opened", "dispute.closed"]

    def test_dispute_won_returns_the_order_to_where_it_was(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())
        pi = attempt.stripe_payment_intent_id
        send_event(se.event("refund.updated", se.refund(pi, amount=800)))
        send_event(se.event("charge.dispute.created", se.dispute(pi, amount=6000)))
        send_event(se.event("charge.dispute.funds_reinstated", se.dispute(pi, amount=6000)))
        send_event(se.event("charge.dispute.closed", se.dispute(pi, amount=6000, status="won")))
        order = fresh(attempt.order)
        assert order.status == "partially_refunded"
        assert not Dispute.objects.get().funds_withdrawn

    def test_a_dispute_s_audit_entries_carry_the_disputed_amount(self, send_event, start_payment):
        attempt = _paid(send_event, start_payment())  # a payment of more than 25.00
        pi = attempt.stripe_payment_intent_id
        send_event(se.event("charge.dispute.created", se.dispute(pi, amount=2500)))
        send_event(se.event("charge.dispute.closed", se.dispute(pi, amount=2500, status="won")))
        money = list(
            AuditEntry.objects.filter(order_id=attempt.order_id, action__startswith="dispute.")
            .order_by("id")
            .values_list("action", "amount", "currency")
        )
        assert money == [("dispute.opened", 2500, "usd"), ("dispute.closed", 2500, "usd")]
