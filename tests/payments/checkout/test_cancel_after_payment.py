"""Cancelling an order whose payment Stripe has already taken (or is taking).

Stripe answers `payment_intent_unexpected_state` / `checkout_session_unexpected_state` to a
cancel or expire of an object that is not open. That is not "already closed": the shopper
may have paid a moment ago and our webhook has not run yet. The shop asks Stripe what the
object's state is and refuses the cancel (409 payment_in_progress) unless it is truly
closed; the stock stays reserved and the webhook records the payment.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from catalog.models import Product
from orders.housekeeping import expire_overdue_orders
from orders.models import Order
from payments.models import PaymentAttempt
from tests import stripe_events as se
from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def stock_of(order):
    return sorted(
        Product.objects.filter(pk__in=order.lines.values("product_id")).values_list(
            "stock", "reserved", "sold"
        )
    )


RESERVED = [(3, 2, 0), (4, 1, 0)]


def start(api, order, kind="payment-intent") -> PaymentAttempt:
    response = api.post_idem(f"/api/v1/orders/{order.pk}/{kind}/", {})
    assert response.status_code == 201, response.content
    return PaymentAttempt.objects.filter(order=order).latest("number")


def cancel(api, order):
    return api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {})


def assert_refused_and_nothing_changed(response, order, attempt):
    assert response.status_code == 409, response.content
    assert error_code(response) == "payment_in_progress"
    order.refresh_from_db()
    assert (order.status, order.stock_released) == ("pending_payment", False)
    assert stock_of(order) == RESERVED
    attempt.refresh_from_db()
    assert attempt.status == "requires_payment"
    assert not AuditEntry.objects.filter(action="order.cancelled").exists()
    refusal = AuditEntry.objects.get(action="order.cancel", outcome="refused")
    assert refusal.details["code"] == "payment_in_progress"
    assert refusal.order_id == order.pk


class TestPaymentIntent:
    @pytest.mark.parametrize("status", ["succeeded", "processing", "requires_capture"])
    def test_cancel_after_stripe_took_the_payment_is_refused(self, api, order, stripe_fake, status):
        attempt = start(api, order)
        stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = status

        response = cancel(api, order)

        assert_refused_and_nothing_changed(response, order, attempt)
        pi = attempt.stripe_payment_intent_id
        assert stripe_fake.sent("POST", f"/v1/payment_intents/{pi}/cancel")
        assert stripe_fake.sent("GET", f"/v1/payment_intents/{pi}")

    def test_the_webhook_then_records_the_payment(self, api, order, stripe_fake, send_event):
        attempt = start(api, order)
        stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "succeeded"
        assert cancel(api, order).status_code == 409

        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))

        order.refresh_from_db()
        assert order.status == "paid"
        assert stock_of(order) == [(3, 0, 2), (4, 0, 1)]
        [receipt] = mail.outbox
        assert order.number in receipt.subject

    def test_an_open_payment_intent_is_still_cancelled(self, api, order, stripe_fake):
        attempt = start(api, order)
        response = cancel(api, order)
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert stock_of(order) == [(5, 0, 0), (5, 0, 0)]
        assert PaymentAttempt.objects.get(pk=attempt.pk).status == "canceled"

    def test_a_payment_intent_already_canceled_at_stripe_counts_as_closed(
        self, api, order, stripe_fake
    ):
        attempt = start(api, order)
        stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "canceled"
        assert cancel(api, order).status_code == 200
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert stock_of(order) == [(5, 0, 0), (5, 0, 0)]


class TestCheckoutSession:
    @pytest.mark.parametrize("payment_status", ["paid", "unpaid"])
    def test_cancel_after_the_session_completed_is_refused(
        self, api, order, stripe_fake, payment_status
    ):
        attempt = start(api, order, "checkout-session")
        session = stripe_fake.objects[attempt.stripe_checkout_session_id]
        # `unpaid` on a complete session: a delayed payment method is still settling.
        session.update(status="complete", payment_status=payment_status)

        response = cancel(api, order)

        assert_refused_and_nothing_changed(response, order, attempt)
        assert stripe_fake.sent("GET", f"/v1/checkout/sessions/{session['id']}")

    def test_an_expired_session_counts_as_closed(self, api, order, stripe_fake):
        attempt = start(api, order, "checkout-session")
        stripe_fake.objects[attempt.stripe_checkout_session_id]["status"] = "expired"
        assert cancel(api, order).status_code == 200
        order.refresh_from_db()
        assert order.status == "cancelled"


def test_the_expiry_sweep_never_expires_an_order_paid_at_stripe(api, order, stripe_fake):
    attempt = start(api, order)
    stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "succeeded"
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - timedelta(hours=1))

    report = expire_overdue_orders()

    assert [(left.number, left.code) for left in report.left] == [
        (order.number, "payment_in_progress")
    ]
    order.refresh_from_db()
    assert (order.status, order.stock_released) == ("pending_payment", False)
    assert stock_of(order) == RESERVED


def test_a_new_payment_is_refused_while_the_previous_one_succeeded_at_stripe(
    api, order, stripe_fake
):
    """Starting a Checkout Session closes the open PaymentIntent first: one that Stripe
    reports succeeded is not marked canceled here, and no second payment is started."""
    attempt = start(api, order)
    stripe_fake.objects[attempt.stripe_payment_intent_id]["status"] = "succeeded"

    response = api.post_idem(f"/api/v1/orders/{order.pk}/checkout-session/", {})

    assert response.status_code == 409
    assert error_code(response) == "payment_in_progress"
    assert not stripe_fake.sent("POST", "/v1/checkout/sessions")
    attempt.refresh_from_db()
    assert attempt.status == "requires_payment"
    refusal = AuditEntry.objects.get(action="payment_attempt.close", outcome="refused")
    assert refusal.details["stripe_state"] == "succeeded"
