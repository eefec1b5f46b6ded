"""Starting payments: what our code sends to Stripe, and what the shopper gets back."""

import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from catalog.models import Product
from orders.models import Order
from payments.models import PaymentAttempt
from tests import stripe_events as se
from tests import stripe_fake as fake_answers
from tests.conftest import error_code
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "HTTP_ORIGIN": "https://evil.example",
    "HTTP_REFERER": "https://evil.example/x",
    "HTTP_X_FORWARDED_HOST": "evil.example",
}


def checkout(api, order, **extra):
    return api.post_idem(f"/api/v1/orders/{order.pk}/checkout-session/", {}, **extra)


def payment_intent(api, order, **extra):
    return api.post_idem(f"/api/v1/orders/{order.pk}/payment-intent/", {}, **extra)


class TestCheckoutSession:
    def test_line_items_and_urls_come_from_the_server(self, api, order, stripe_fake, settings):
        settings.FRONTEND_URL = "https://shop.example.com/app/"
        Product.objects.update(unit_amount=1)  # a later price change must not leak in

        response = checkout(api, order, **HOSTILE)

        assert response.status_code == 201
        body = response.json()
        assert body["url"].startswith("https://checkout.stripe.test/")
        [sent] = stripe_fake.sent("POST", "/v1/checkout/sessions")
        p = sent.params
        assert p["mode"] == "payment"
        items = sorted(
            (
                p[f"line_items[{i}][price_data][product_data][name]"],
                p[f"line_items[{i}][price_data][unit_amount]"],
                p[f"line_items[{i}][quantity]"],
                p[f"line_items[{i}][price_data][currency]"],
            )
            for i in range(2)
        )
        assert items == [("Mug", "1800", "1", "usd"), ("Tee", "2500", "2", "usd")]
        assert p["success_url"] == (
            f"https://shop.example.com/app/orders/{order.pk}?session_id={{CHECKOUT_SESSION_ID}}"
        )
        assert p["cancel_url"].startswith("https://shop.example.com/app/")
        assert "evil" not in str(p)
        assert p["customer"] == order.user.stripe_customer.stripe_customer_id
        assert p["client_reference_id"] == str(order.pk)
        metadata = {k: v for k, v in p.items() if "metadata" in k}
        assert metadata == {
            "metadata[shop]": settings.SHOP_ID,
            "metadata[order_id]": str(order.pk),
            "metadata[attempt]": "1",
            "payment_intent_data[metadata][shop]": settings.SHOP_ID,
            "payment_intent_data[metadata][order_id]": str(order.pk),
            "payment_intent_data[metadata][attempt]": "1",
        }
        assert sent.idempotency_key == f"order-{order.pk}-attempt-1"
        attempt = PaymentAttempt.objects.get()
        assert attempt.stripe_checkout_session_id == body["checkout_session_id"]
        assert (attempt.amount, attempt.currency, attempt.status) == (
            6800,
            "usd",
            "requires_payment",
        )

    def test_the_session_expires_with_the_reservation_and_at_least_stripes_minimum(
        self, api, order, stripe_fake
    ):
        checkout(api, order)
        expires_at = int(stripe_fake.sent("POST", "/v1/checkout/sessions")[0].params["expires_at"])
        order.refresh_from_db()
        assert expires_at >= (timezone.now() + timedelta(minutes=30)).timestamp()
        # The stock is held for as long as the shopper can pay.
        assert int(order.reserved_until.timestamp()) >= expires_at

    def test_a_body_field_cannot_change_anything(self, api, order, stripe_fake):
        for body in ({"success_url": "https://evil.example"}, {"amount": 1}):
            response = api.post_idem(f"/api/v1/orders/{order.pk}/checkout-session/", body)
            assert response.status_code == 400
        assert stripe_fake.requests == []

    def test_a_new_attempt_expires_the_previous_open_session(self, api, order, stripe_fake):
        first = checkout(api, order).json()["checkout_session_id"]
        second = checkout(api, order).json()["checkout_session_id"]

        assert first != second
        [expire] = stripe_fake.sent("POST", f"/v1/checkout/sessions/{first}/expire")
        assert expire.idempotency_key == f"order-{order.pk}-attempt-1-close"
        statuses = dict(PaymentAttempt.objects.values_list("number", "status"))
        assert statuses == {1: "canceled", 2: "requires_payment"}
        keys = [
            r.idempotency_key
            for r in stripe_fake.sent("POST", "/v1/checkout/sessions")
            if r.path == "/v1/checkout/sessions"
        ]
        assert keys == [f"order-{order.pk}-attempt-1", f"order-{order.pk}-attempt-2"]


class TestPaymentIntent:
    def test_amount_and_currency_come_from_the_order(self, api, order, stripe_fake, settings):
        response = payment_intent(api, order, **HOSTILE)

        assert response.status_code == 201
        body = response.json()
        [sent] = stripe_fake.sent("POST", "/v1/payment_intents")
        assert sent.params["amount"] == "6800"
        assert sent.params["currency"] == "usd"
        assert sent.params["automatic_payment_methods[enabled]"] == "true"
        assert sent.params["metadata[order_id]"] == str(order.pk)
        assert sent.params["metadata[shop]"] == settings.SHOP_ID
        assert sent.idempotency_key == f"order-{order.pk}-attempt-1"
        assert body == {
            "payment_intent_id": body["payment_intent_id"],
            "client_secret": f"{body['payment_intent_id']}_secret_fake",
            "publishable_key": "pk_test_fake",
            "amount": 6800,
            "currency": "usd",
        }

    def test_asking_again_returns_the_open_payment_intent(self, api, order, stripe_fake):
        first = payment_intent(api, order).json()
        second = payment_intent(api, order).json()

        assert second["payment_intent_id"] == first["payment_intent_id"]
        assert second["client_secret"] == first["client_secret"]
        assert len(stripe_fake.sent("POST", "/v1/payment_intents")) == 1
        assert PaymentAttempt.objects.count() == 1

    def test_zero_decimal_currency_sends_whole_units(self, api, stripe_fake):
        towel = ProductFactory(unit_amount=1800, currency="jpy", stock=10)
        order_id = api.post_idem(
            "/api/v1/orders/", {"lines": [{"product_id": towel.pk, "quantity": 3}]}
        ).json()["id"]
        api.post_idem(f"/api/v1/orders/{order_id}/payment-intent/", {})
        [sent] = stripe_fake.sent("POST", "/v1/payment_intents")
        assert (sent.params["amount"], sent.params["currency"]) == ("5400", "jpy")

    def test_starting_a_payment_intent_expires_an_open_checkout_session(
        self, api, order, stripe_fake
    ):
        session = checkout(api, order).json()["checkout_session_id"]
        payment_intent(api, order)
        assert stripe_fake.sent("POST", f"/v1/checkout/sessions/{session}/expire")
        assert PaymentAttempt.objects.get(kind="checkout_session").status == "canceled"


class TestRetriesSendTheSameStripeIdempotencyKey:
    def test_a_failed_creation_is_repeated_with_the_same_key_and_leaves_one_attempt(
        self, api, order, stripe_fake
    ):
        stripe_fake.fail_next(fake_answers.CONNECTION)
        failed = payment_intent(api, order)
        assert failed.status_code == 503
        assert failed["Retry-After"]
        assert error_code(failed) == "stripe_unavailable"

        retried = payment_intent(api, order)  # a new HTTP request, new Idempotency-Key
        assert retried.status_code == 201
        keys = [r.idempotency_key for r in stripe_fake.sent("POST", "/v1/payment_intents")]
        assert keys == [f"order-{order.pk}-attempt-1"] * 2
        assert PaymentAttempt.objects.count() == 1
        outcomes = list(
            AuditEntry.objects.filter(action__startswith="payment_attempt")
            .order_by("id")
            .values_list("action", "outcome")
        )
        assert outcomes == [
            ("payment_attempt.create", "failed"),
            ("payment_attempt.created", "success"),
        ]

    def test_the_same_idempotency_key_is_retried_after_a_503(self, api, order, stripe_fake):
        stripe_fake.fail_next(fake_answers.SERVER_ERROR)
        path = f"/api/v1/orders/{order.pk}/checkout-session/"
        assert api.post(path, {}, idempotency_key="click-1").status_code == 503
        again = api.post(path, {}, idempotency_key="click-1")
        assert again.status_code == 201
        assert "Idempotent-Replayed" not in again
        keys = {r.idempotency_key for r in stripe_fake.sent("POST", "/v1/checkout/sessions")}
        assert keys == {f"order-{order.pk}-attempt-1"}
        assert PaymentAttempt.objects.count() == 1

    def test_a_double_click_runs_once(self, api, order, stripe_fake):
        path = f"/api/v1/orders/{order.pk}/checkout-session/"
        first = api.post(path, {}, idempotency_key="double")
        second = api.post(path, {}, idempotency_key="double")
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"
        assert len(stripe_fake.sent("POST", "/v1/checkout/sessions")) == 1

    def test_the_sdks_own_network_retry_repeats_the_same_key(
        self, api, order, stripe_fake, settings
    ):
        settings.STRIPE_MAX_NETWORK_RETRIES = 1
        stripe_fake.fail_next(fake_answers.CONNECTION)
        assert payment_intent(api, order).status_code == 201
        keys = [r.idempotency_key for r in stripe_fake.sent("POST", "/v1/payment_intents")]
        assert keys == [f"order-{order.pk}-attempt-1"] * 2


class TestStripeErrorsAreMappedOnce:
    @pytest.mark.parametrize(
        ("answer", "status", "code", "retry_after"),
        [
            (fake_answers.CARD_DECLINED, 402, "card_declined", False),
            (fake_answers.RATE_LIMITED, 503, "stripe_rate_limited", True),
            (fake_answers.CONNECTION, 503, "stripe_unavailable", True),
            (fake_answers.SERVER_ERROR, 503, "stripe_unavailable", True),
            (fake_answers.BAD_KEY, 500, "server_error", False),
            (fake_answers.NO_PERMISSION, 500, "server_error", False),
            (fake_answers.INVALID, 502, "stripe_request_refused", False),
        ],
    )
    def test_each_error_class(
        self, api, order, stripe_fake, caplog, answer, status, code, retry_after
    ):
        stripe_fake.fail_next(answer)
        with caplog.at_level(logging.DEBUG):
            response = payment_intent(api, order)

        assert response.status_code == status
        assert error_code(response) == code
        assert ("Retry-After" in response) is retry_after
        text = response.content.decode()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for secret in (fake_answers.FAKE_SECRET_KEY, "raw_detail", "****", "Invalid API Key"):
            assert secret not in text
            assert secret not in logged
        if status == 402:
            assert response.json()["error"]["message"] == "Your card has insufficient funds."
        if status == 500:
            assert response.json()["error"]["message"] == "Internal server error."
            assert any(
                r.levelno == logging.CRITICAL and "ALERT" in r.getMessage() for r in caplog.records
            )


class TestCircuitBreaker:
    def test_opens_after_repeated_failures_and_closes_after_the_cooldown(
        self, api, order, stripe_fake, settings
    ):
        settings.STRIPE_BREAKER_THRESHOLD = 3
        settings.STRIPE_BREAKER_COOLDOWN_SECONDS = 1
        stripe_fake.fail_next(*[fake_answers.CONNECTION] * 3)
        for _ in range(3):
            assert payment_intent(api, order).status_code == 503
        assert len(stripe_fake.requests) == 3

        fast = payment_intent(api, order)
        assert fast.status_code == 503
        assert fast["Retry-After"] == "1"
        assert len(stripe_fake.requests) == 3  # failed fast: Stripe was not called

        time.sleep(1.1)
        assert payment_intent(api, order).status_code == 201
        assert len(stripe_fake.requests) == 4


class TestRefusals:
    def test_kill_switch(self, api, order, stripe_fake, settings, product):
        settings.PAYMENTS_ENABLED = False
        for response in (payment_intent(api, order), checkout(api, order)):
            assert response.status_code == 503
            assert error_code(response) == "payments_disabled"
            assert int(response["Retry-After"]) > 0
        assert stripe_fake.requests == []
        refused = AuditEntry.objects.filter(action="payment_attempt.create", outcome="refused")
        assert [e.details["code"] for e in refused] == ["payments_disabled"] * 2
        # The rest of the shop keeps working.
        assert api.get("/api/v1/products/").status_code == 200
        assert (
            api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1}).status_code
            == 201
        )
        assert api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {}).status_code == 200

    def test_orders_that_cannot_be_paid(self, api, user, stripe_fake, client_for, settings):
        settings.MAX_PENDING_ORDERS = 5
        cheap = ProductFactory(unit_amount=40, stock=5)
        dear = ProductFactory(unit_amount=99_999_999, stock=5)

        def new_order(product, quantity=1, client=api):
            return Order.objects.get(
                pk=client.post_idem(
                    "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": quantity}]}
                ).json()["id"]
            )

        too_small = payment_intent(api, new_order(cheap))
        assert (too_small.status_code, error_code(too_small)) == (400, "invalid_amount")
        # Above PAYMENT_MAX_AMOUNT: refused when the order is made (tests/test_stock_hoarding);
        # one made before the limit was lowered is refused when its payment starts.
        dear_order = new_order(dear, 1)
        settings.PAYMENT_MAX_AMOUNT = dear.unit_amount - 1
        too_large = checkout(api, dear_order)
        assert (too_large.status_code, error_code(too_large)) == (400, "amount_too_large")

        cancelled = new_order(cheap, 2)
        api.post_idem(f"/api/v1/orders/{cancelled.pk}/cancel/", {})
        response = payment_intent(api, cancelled)
        assert (response.status_code, error_code(response)) == (409, "order_not_payable")

        late = new_order(cheap, 3)
        Order.objects.filter(pk=late.pk).update(reserved_until=timezone.now())
        response = checkout(api, late)
        assert (response.status_code, error_code(response)) == (409, "reservation_expired")

        someone_else = client_for(UserFactory())
        assert payment_intent(someone_else, late).status_code == 404

        assert stripe_fake.requests == []
        assert PaymentAttempt.objects.count() == 0
        refused = AuditEntry.objects.filter(action="payment_attempt.create", outcome="refused")
        assert sorted(e.details["code"] for e in refused) == [
            "amount_too_large",
            "invalid_amount",
            "order_not_payable",
            "reservation_expired",
        ]


class TestRateLimitsAndVelocity:
    # Hour-long windows: a minute's window could roll over between a test's requests.
    def test_payment_creation_is_limited_per_user(self, api, order, stripe_fake, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "payment_create": {"user": "2/h", "ip": "100/h"},
        }
        assert payment_intent(api, order).status_code == 201
        assert payment_intent(api, order).status_code == 201
        limited = payment_intent(api, order)
        assert limited.status_code == 429
        assert error_code(limited) == "rate_limited"
        assert 0 < int(limited["Retry-After"]) <= 3600

    def test_order_creation_is_limited_per_ip_across_users(self, client_for, settings, product):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "order_create": {"user": "100/h", "ip": "2/h"},
        }
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
        codes = [
            client_for(UserFactory()).post_idem("/api/v1/orders/", body).status_code
            for _ in range(3)
        ]
        assert codes == [201, 201, 429]
        assert Order.objects.count() == 2

    def test_register_and_token_are_limited_per_ip(self, anon, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": {"ip": "2/h"}}
        body = {"email": "x@example.com", "password": "nope"}
        codes = [anon.post("/api/v1/auth/token/", body).status_code for _ in range(3)]
        assert codes == [400, 400, 429]

    def test_velocity_guard_stops_a_shopper_with_too_many_failed_payments(
        self, api, user, order, stripe_fake, settings, send_event
    ):
        settings.PAYMENT_FAILURES_PER_HOUR = 3
        assert payment_intent(api, order).status_code == 201
        attempt = PaymentAttempt.objects.get()
        declined = se.payment_intent(
            attempt,
            status="requires_payment_method",
            error={"type": "card_error", "code": "card_declined", "message": "Declined."},
        )
        for _ in range(3):  # three declines, as Stripe reports them
            send_event(se.event("payment_intent.payment_failed", declined))

        response = payment_intent(api, order)

        assert response.status_code == 429
        assert error_code(response) == "too_many_failed_payments"
        assert response["Retry-After"]
        entry = AuditEntry.objects.get(action="payment_attempt.create", outcome="refused")
        assert entry.actor == user
        assert entry.details["reason"] == "velocity"


class TestCancelAndPaymentStatus:
    def test_cancel_cancels_the_open_payment_intent_at_stripe(self, api, order, stripe_fake):
        pi = payment_intent(api, order).json()["payment_intent_id"]
        response = api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {})
        assert response.status_code == 200
        [cancel] = stripe_fake.sent("POST", f"/v1/payment_intents/{pi}/cancel")
        assert cancel.idempotency_key == f"order-{order.pk}-attempt-1-close"
        assert PaymentAttempt.objects.get().status == "canceled"
        assert api.get(f"/api/v1/orders/{order.pk}/payment/").json()["status"] == "canceled"

    def test_cancel_expires_the_open_session_and_tolerates_stripe_having_closed_it(
        self, api, order, stripe_fake
    ):
        session = checkout(api, order).json()["checkout_session_id"]
        stripe_fake.objects[session]["status"] = "expired"  # expired at Stripe already
        assert api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {}).status_code == 200
        assert stripe_fake.sent("POST", f"/v1/checkout/sessions/{session}/expire")
        order.refresh_from_db()
        assert order.status == "cancelled"

    def test_cancel_while_stripe_is_down_changes_nothing(self, api, order, stripe_fake):
        payment_intent(api, order)
        stripe_fake.fail_next(fake_answers.CONNECTION)
        response = api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {})
        assert response.status_code == 503
        order.refresh_from_db()
        assert order.status == "pending_payment"
        assert PaymentAttempt.objects.get().status == "requires_payment"
        product = order.lines.first().product
        product.refresh_from_db()
        assert product.reserved > 0

    def test_payment_endpoint_and_order_show_the_latest_attempt(self, api, order, stripe_fake):
        none_yet = api.get(f"/api/v1/orders/{order.pk}/payment/")
        assert none_yet.status_code == 404
        payment_intent(api, order)
        payment = api.get(f"/api/v1/orders/{order.pk}/payment/").json()
        assert payment == {
            "status": "requires_payment",
            "amount": 6800,
            "currency": "usd",
            "amount_refunded": 0,
            "failure_message": "",
        }
        assert api.get(f"/api/v1/orders/{order.pk}/").json()["payment"] == payment
