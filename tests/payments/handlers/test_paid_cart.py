"""A payment takes from the cart what its order took, never what the shopper added later.

A bank debit can settle days after the order; meanwhile the shopper keeps shopping.
"""

import pytest

from payments.models import PaymentAttempt
from tests import stripe_events as se
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def cart(api) -> dict[str, int]:
    return {line["name"]: line["quantity"] for line in api.get("/api/v1/cart/").json()["lines"]}


def add(api, product, quantity=1):
    response = api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": quantity})
    assert response.status_code == 201, response.content


def order_the_cart_and_start_paying(api) -> PaymentAttempt:
    order = api.post_idem("/api/v1/orders/", {})
    assert order.status_code == 201, order.content
    started = api.post_idem(f"/api/v1/orders/{order.json()['id']}/payment-intent/", {})
    assert started.status_code == 201, started.content
    return PaymentAttempt.objects.get(order_id=order.json()["id"])


def settle(send_event, attempt):
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"


def test_a_late_payment_keeps_what_was_added_to_the_cart_after_ordering(
    api, send_event, stripe_fake
):
    mug, lamp, vase = (ProductFactory(name=n) for n in ("Blue mug", "Desk lamp", "Glass vase"))
    add(api, mug, 2)
    add(api, lamp)
    attempt = order_the_cart_and_start_paying(api)

    add(api, vase)  # kept shopping while the bank debit was settling
    add(api, mug)  # one more mug: 3 in the cart, 2 of them ordered

    settle(send_event, attempt)

    assert cart(api) == {"Blue mug": 1, "Glass vase": 1}


def test_a_line_removed_and_added_again_after_ordering_is_kept(api, send_event, stripe_fake):
    mug = ProductFactory(name="Blue mug")
    add(api, mug)
    attempt = order_the_cart_and_start_paying(api)
    line = api.get("/api/v1/cart/").json()["lines"][0]
    api.delete(f"/api/v1/cart/lines/{line['id']}/")
    add(api, mug)  # a new line, made after the order

    settle(send_event, attempt)

    assert cart(api) == {"Blue mug": 1}


def test_paying_the_whole_cart_empties_it_and_frees_its_currency(api, send_event, stripe_fake):
    mug, lamp = ProductFactory(name="Blue mug"), ProductFactory(name="Desk lamp")
    add(api, mug)
    add(api, lamp, 3)
    attempt = order_the_cart_and_start_paying(api)

    settle(send_event, attempt)

    assert api.get("/api/v1/cart/").json() == {"lines": [], "currency": None, "subtotal": 0}


def test_two_orders_of_one_cart_paid_take_its_lines_once(api, send_event, stripe_fake):
    mug, lamp = ProductFactory(name="Blue mug"), ProductFactory(name="Desk lamp")
    add(api, mug)
    first = order_the_cart_and_start_paying(api)
    second = order_the_cart_and_start_paying(api)
    add(api, lamp)

    settle(send_event, first)
    settle(send_event, second)

    assert cart(api) == {"Desk lamp": 1}
