"""Both payment flows, declines, 3-D Secure, async payments and expiry, end to end.

gunicorn, a Celery worker, the Stripe emulator (delivering signed webhooks), Redis and
PostgreSQL run as real processes; the test is the shopper's front end and Stripe.js.
"""

import requests

from audit.models import AuditEntry
from tests.e2e.stack import Shopper, confirm_as_stripe_js, eventually
from tests.factories import ProductFactory


def available(shopper, product_id) -> int:
    return shopper.get(f"products/{product_id}/").json()["available_quantity"]


def test_payment_intent_flow_to_paid(stack):
    product = ProductFactory(unit_amount=2500, stock=5)
    shopper = Shopper(stack)
    order = shopper.order(product.pk, 2)
    assert available(shopper, product.pk) == 3  # reserved

    started = shopper.post(f"orders/{order['id']}/payment-intent/")
    assert started.status_code == 201, started.text
    started = started.json()
    assert (started["amount"], started["currency"]) == (5000, "usd")
    confirmed = confirm_as_stripe_js(stack, started, "pm_card_visa")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"

    paid = shopper.wait_for_status(order["id"], "paid")
    assert paid["payment"]["status"] == "succeeded"
    assert available(shopper, product.pk) == 3  # sold, not back on the shelf
    product.refresh_from_db()
    assert (product.reserved, product.sold) == (0, 2)
    assert shopper.get("cart/").json()["lines"] == []
    eventually(lambda: _assert_subject(stack, f"Receipt for order {order['number']}"))
    assert AuditEntry.objects.filter(order_id=order["id"], action="payment.succeeded").count() == 1


def _assert_subject(stack, subject):
    assert subject in stack.mail_subjects(), stack.mail_subjects()


def test_checkout_session_flow_to_paid(stack):
    product = ProductFactory(unit_amount=1800, stock=3)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/checkout-session/")
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["url"].startswith(stack.emulator.url)

    # The shopper pays on the hosted page and is sent back to the shop.
    page = requests.get(session["url"], timeout=10)
    assert page.status_code == 200 and "1800" in page.text.replace(".", "").replace(",", "")
    status, paid_page = stack.emulator.control(
        "POST",
        f"/checkout_sessions/{session['checkout_session_id']}/pay",
        {"card": "4242424242424242"},
    )
    assert status == 200, paid_page
    paid = shopper.wait_for_status(order["id"], "paid")
    assert paid["payment"]["status"] == "succeeded"
    assert shopper.get("cart/").json()["lines"] == []


def test_declined_card_keeps_the_order_payable_and_the_cart(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    declined = confirm_as_stripe_js(stack, started, "pm_card_visa_chargeDeclined")
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "card_declined"

    def failed():
        payment = shopper.get(f"orders/{order['id']}/payment/").json()
        assert payment["status"] == "failed", payment
        return payment

    payment = eventually(failed)
    assert payment["failure_message"]
    assert shopper.get(f"orders/{order['id']}/").json()["status"] == "pending_payment"
    assert len(shopper.get("cart/").json()["lines"]) == 1
    eventually(
        lambda: _assert_subject(stack, f"Payment for order {order['number']} did not go through")
    )

    # Another card on the same PaymentIntent pays the order.
    again = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    assert again["payment_intent_id"] == started["payment_intent_id"]
    assert confirm_as_stripe_js(stack, again, "pm_card_visa").status_code == 200
    shopper.wait_for_status(order["id"], "paid")


def test_three_d_secure_then_paid(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    needs_action = confirm_as_stripe_js(stack, started, "pm_card_threeDSecure2Required")
    assert needs_action.json()["status"] == "requires_action"

    def requires_action():
        assert shopper.get(f"orders/{order['id']}/payment/").json()["status"] == "requires_action"

    eventually(requires_action)
    status, _ = stack.emulator.control(
        "POST",
        f"/payment_intents/{started['payment_intent_id']}/authenticate",
        {"outcome": "succeeded"},
    )
    assert status == 200
    shopper.wait_for_status(order["id"], "paid")


def test_async_payment_succeeds_later(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    session = shopper.post(f"orders/{order['id']}/checkout-session/").json()
    cs = session["checkout_session_id"]
    status, body = stack.emulator.control(
        "POST", f"/checkout_sessions/{cs}/pay", {"card": "pm_usBankAccount_success"}
    )
    assert status == 200, body

    def processing():
        assert shopper.get(f"orders/{order['id']}/payment/").json()["status"] == "processing"

    eventually(processing)
    assert shopper.get(f"orders/{order['id']}/").json()["status"] == "pending_payment"
    stack.emulator.control("POST", f"/payment_intents/{cs}/settle", {"outcome": "succeeded"})
    shopper.wait_for_status(order["id"], "paid")


def test_async_payment_fails_later_and_the_order_stays_payable(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    cs = shopper.post(f"orders/{order['id']}/checkout-session/").json()["checkout_session_id"]
    stack.emulator.control(
        "POST", f"/checkout_sessions/{cs}/pay", {"card": "pm_usBankAccount_insufficientFunds"}
    )
    stack.emulator.control("POST", f"/payment_intents/{cs}/settle", {"outcome": "failed"})

    def failed():
        assert shopper.get(f"orders/{order['id']}/payment/").json()["status"] == "failed"

    eventually(failed)
    assert shopper.get(f"orders/{order['id']}/").json()["status"] == "pending_payment"
    assert len(shopper.get("cart/").json()["lines"]) == 1


def test_session_expiry_releases_the_stock(stack):
    product = ProductFactory(stock=4)
    shopper = Shopper(stack)
    order = shopper.order(product.pk, 3)
    cs = shopper.post(f"orders/{order['id']}/checkout-session/").json()["checkout_session_id"]
    assert available(shopper, product.pk) == 1
    status, _ = stack.emulator.control("POST", f"/checkout_sessions/{cs}/expire")
    assert status == 200
    shopper.wait_for_status(order["id"], "expired")
    assert available(shopper, product.pk) == 4
    assert shopper.get(f"orders/{order['id']}/payment/").json()["status"] == "canceled"
