from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from catalog.models import Product
from orders.models import Order, OrderStatus
from tests.conftest import error_code
from tests.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_order_from_the_cart_freezes_catalog_prices_and_reserves_stock(api, user):
    tee = ProductFactory(unit_amount=2500, stock=5)
    mug = ProductFactory(unit_amount=1800, stock=5)
    api.post("/api/v1/cart/lines/", {"product_id": tee.pk, "quantity": 2})
    api.post("/api/v1/cart/lines/", {"product_id": mug.pk, "quantity": 1})

    response = api.post_idem("/api/v1/orders/", {})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["currency"] == "usd"
    assert body["subtotal"] == body["total"] == 2 * 2500 + 1800
    assert body["amount_refunded"] == 0
    assert body["payment"] is None
    assert body["number"].startswith("ORD-")
    assert sorted(
        (line["sku"], line["quantity"], line["line_total"]) for line in body["lines"]
    ) == sorted([(tee.sku, 2, 5000), (mug.sku, 1, 1800)])
    tee.refresh_from_db()
    assert (tee.stock, tee.reserved) == (3, 2)
    order = Order.objects.get()
    assert order.user == user and order.email == user.email
    # The cart stays until the order is paid: a failed payment must not lose it.
    assert len(api.get("/api/v1/cart/").json()["lines"]) == 2

    # Later price changes do not touch the frozen order.
    Product.objects.filter(pk=tee.pk).update(unit_amount=9999)
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["total"] == 6800


@override_settings(ORDER_HOLD_MINUTES=7, ORDER_RESERVATION_MINUTES=30)
def test_reserved_until_follows_the_setting(api, product):
    # Until a payment is started the order holds its stock for ORDER_HOLD_MINUTES only
    # (tests/orders/test_stock_hoarding.py has the extension to ORDER_RESERVATION_MINUTES).
    before = timezone.now()
    body = api.post_idem(
        "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": 1}]}
    ).json()
    reserved_until = Order.objects.get(pk=body["id"]).reserved_until
    assert before + timedelta(minutes=7) <= reserved_until <= timezone.now() + timedelta(minutes=7)


def test_order_from_lines_merges_repeated_products(api):
    product = ProductFactory(unit_amount=700, stock=10)
    body = api.post_idem(
        "/api/v1/orders/",
        {
            "lines": [
                {"product_id": product.pk, "quantity": 2},
                {"product_id": product.pk, "quantity": 3},
            ]
        },
    ).json()
    assert [(line["quantity"], line["line_total"]) for line in body["lines"]] == [(5, 3500)]
    assert body["total"] == 3500


@pytest.mark.parametrize(
    "body",
    [
        {"unit_amount": 1},
        {"price": 1},
        {"name": "Free stuff"},
        {"total": 1},
        {"lines": [{"product_id": "PRODUCT", "quantity": 1, "unit_amount": 1}]},
        {"lines": [{"product_id": "PRODUCT", "quantity": 1, "price": 1}]},
        {"lines": [{"product_id": "PRODUCT", "quantity": 1, "name": "x"}]},
        {"lines": [{"product_id": "PRODUCT", "quantity": 1}], "total": 1},
    ],
)
def test_price_manipulation_is_refused_and_nothing_is_reserved(api, body):
    product = ProductFactory(unit_amount=5000, stock=3)
    api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
    for line in body.get("lines", []):
        line["product_id"] = product.pk

    response = api.post_idem("/api/v1/orders/", body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert response.json()["error"]["fields"]
    assert not Order.objects.exists()
    product.refresh_from_db()
    assert (product.stock, product.reserved) == (3, 0)


@override_settings(MAX_RESERVED_PER_PRODUCT=1000)
def test_stored_total_is_catalog_price_times_quantity(api):
    product = ProductFactory(unit_amount=1234, stock=1000)
    body = api.post_idem(
        "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": 999}]}
    ).json()
    order = Order.objects.get(pk=body["id"])
    assert order.total == order.subtotal == 1234 * 999
    assert order.lines.get().line_total == 1234 * 999


def test_zero_decimal_currency_totals_are_whole_units(api):
    towel = ProductFactory(unit_amount=1800, currency="jpy", stock=10)
    fan = ProductFactory(unit_amount=350, currency="jpy", stock=10)
    body = api.post_idem(
        "/api/v1/orders/",
        {
            "lines": [
                {"product_id": towel.pk, "quantity": 3},
                {"product_id": fan.pk, "quantity": 2},
            ]
        },
    ).json()
    assert body["currency"] == "jpy"
    assert body["total"] == 3 * 1800 + 2 * 350 == 6100


def test_mixed_currencies_and_empty_cart_are_refused(api):
    usd = ProductFactory(currency="usd")
    eur = ProductFactory(currency="eur")
    mixed = api.post_idem(
        "/api/v1/orders/",
        {"lines": [{"product_id": usd.pk, "quantity": 1}, {"product_id": eur.pk, "quantity": 1}]},
    )
    assert mixed.status_code == 400
    assert error_code(mixed) == "currency_mismatch"
    usd.refresh_from_db()
    assert usd.reserved == 0

    empty = api.post_idem("/api/v1/orders/", {})
    assert empty.status_code == 400
    assert error_code(empty) == "cart_empty"


def test_not_enough_stock_is_409_names_the_product_and_reserves_nothing(api):
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=1, sku="SCARCE-0042", name="Glass vase")
    response = api.post_idem(
        "/api/v1/orders/",
        {
            "lines": [
                {"product_id": plenty.pk, "quantity": 1},
                {"product_id": scarce.pk, "quantity": 2},
            ]
        },
    )
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    error = response.json()["error"]
    # The shopper sees product names, never the internal SKU.
    assert error["message"] == "Not enough stock for: Glass vase."
    assert error["fields"] == {
        "product_id": [f"Glass vase (product {scarce.pk}): 1 available, 2 asked."]
    }
    assert "SCARCE" not in response.content.decode()
    plenty.refresh_from_db()
    assert (plenty.stock, plenty.reserved) == (10, 0)


def test_shoppers_see_only_their_own_orders(api, user, client_for):
    mine = OrderFactory(user=user)
    theirs = OrderFactory(user=UserFactory())

    listing = api.get("/api/v1/orders/").json()
    assert [order["id"] for order in listing["results"]] == [mine.pk]
    assert api.get(f"/api/v1/orders/{theirs.pk}/").status_code == 404
    other = client_for(theirs.user)
    response = other.post_idem(f"/api/v1/orders/{mine.pk}/cancel/", {})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status == OrderStatus.PENDING_PAYMENT


def test_cancel_releases_stock_once_and_writes_the_audit_trail(api, user):
    product = ProductFactory(stock=4)
    order_id = api.post_idem(
        "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": 3}]}
    ).json()["id"]
    product.refresh_from_db()
    assert (product.stock, product.reserved) == (1, 3)

    cancelled = api.post_idem(f"/api/v1/orders/{order_id}/cancel/", {})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    product.refresh_from_db()
    assert (product.stock, product.reserved) == (4, 0)

    again = api.post_idem(f"/api/v1/orders/{order_id}/cancel/", {})
    assert again.status_code == 409
    assert error_code(again) == "order_not_cancellable"
    product.refresh_from_db()
    assert (product.stock, product.reserved) == (4, 0)

    actions = list(
        AuditEntry.objects.filter(order_id=order_id)
        .order_by("id")
        .values_list("action", "outcome", "actor_id")
    )
    assert actions == [
        ("order.created", "success", user.pk),
        ("order.cancelled", "success", user.pk),
        ("order.cancel", "refused", user.pk),
    ]


def test_cancel_refuses_a_body_with_fields(api, user):
    order = OrderFactory(user=user)
    response = api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {"status": "paid"})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
