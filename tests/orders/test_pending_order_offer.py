"""Ordering the cart while an order of it waits for payment: what the API promises.

`POST orders/` with `{}` orders the cart; a retried request (the same Idempotency-Key) gets
the first answer and reserves nothing more; a new key is a new order, up to
MAX_PENDING_ORDERS (a shopper may buy the same basket twice). So the storefront, not the
API, decides to offer the waiting order instead (tests/e2e/test_browser_pending_orders.py),
from what GET orders/ shows.
"""

import pytest

from catalog.models import Product
from tests.conftest import error_code
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def held(product) -> tuple[int, int]:
    product = Product.objects.get(pk=product.pk)
    return product.stock, product.reserved


def test_a_retried_order_of_the_cart_is_one_order_and_one_reservation(api):
    mug = ProductFactory(stock=5)
    api.post("/api/v1/cart/lines/", {"product_id": mug.pk, "quantity": 2})
    headers = {"HTTP_IDEMPOTENCY_KEY": "place-order-click-1"}

    first = api.post("/api/v1/orders/", {}, format="json", **headers)
    again = api.post("/api/v1/orders/", {}, format="json", **headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert held(mug) == (3, 2)


def test_the_listing_shows_the_waiting_order_the_page_offers(api):
    mug = ProductFactory(stock=5)
    api.post("/api/v1/cart/lines/", {"product_id": mug.pk, "quantity": 1})
    placed = api.post_idem("/api/v1/orders/", {}).json()

    [listed] = api.get("/api/v1/orders/").json()["results"]

    assert {k: listed[k] for k in ("id", "number", "status", "total", "currency")} == {
        k: placed[k] for k in ("id", "number", "status", "total", "currency")
    }
    assert listed["status"] == "pending_payment" and listed["reserved_until"]
    # "Cancel it": the stock goes back, the cart stays, and the cart can be ordered again.
    assert api.post_idem(f"/api/v1/orders/{placed['id']}/cancel/", {}).status_code == 200
    assert held(mug) == (5, 0)
    assert len(api.get("/api/v1/cart/").json()["lines"]) == 1
    assert api.post_idem("/api/v1/orders/", {}).status_code == 201


def test_a_new_key_orders_the_same_cart_again_up_to_the_pending_limit(api, settings):
    settings.MAX_PENDING_ORDERS = 2
    mug = ProductFactory(stock=5)
    api.post("/api/v1/cart/lines/", {"product_id": mug.pk, "quantity": 1})

    answers = [api.post_idem("/api/v1/orders/", {}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert error_code(answers[2]) == "too_many_pending_orders"
    assert held(mug) == (3, 2)
