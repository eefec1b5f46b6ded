"""Stock hoarding: one free account must not be able to hold the catalogue.

A shopper has at most MAX_PENDING_ORDERS unpaid orders and MAX_RESERVED_PER_PRODUCT units
of a product across them; an order above PAYMENT_MAX_AMOUNT is refused at creation; a new
order holds its stock for ORDER_HOLD_MINUTES only, until a payment is started.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from orders.models import Order
from tests.conftest import error_code
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def order_of(api, product, quantity=1):
    return api.post_idem(
        "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": quantity}]}
    )


def stock_of(product):
    product.refresh_from_db()
    return product.stock, product.reserved


def test_the_fourth_pending_order_is_refused_and_reserves_nothing(api, settings, client_for):
    settings.MAX_PENDING_ORDERS = 3
    product = ProductFactory(stock=50)
    first = [order_of(api, product) for _ in range(3)]
    assert [r.status_code for r in first] == [201] * 3

    fourth = order_of(api, product)

    assert (fourth.status_code, error_code(fourth)) == (409, "too_many_pending_orders")
    assert stock_of(product) == (47, 3)
    assert Order.objects.count() == 3
    refused = AuditEntry.objects.get(action="order.create", outcome="refused")
    assert refused.details["code"] == "too_many_pending_orders"
    # The cart path is limited the same way.
    api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
    assert error_code(api.post_idem("/api/v1/orders/", {})) == "too_many_pending_orders"

    # Another shopper is not affected; cancelling one frees a place.
    assert order_of(client_for(UserFactory()), product).status_code == 201
    api.post_idem(f"/api/v1/orders/{first[0].json()['id']}/cancel/", {})
    assert order_of(api, product).status_code == 201


def test_an_order_above_the_maximum_is_refused_before_stock_moves(api, settings, stripe_fake):
    settings.PAYMENT_MAX_AMOUNT = 10_000
    product = ProductFactory(unit_amount=2_500, stock=10)

    response = order_of(api, product, 5)  # 125.00 > 100.00

    assert (response.status_code, error_code(response)) == (400, "amount_too_large")
    assert stock_of(product) == (10, 0)
    assert not Order.objects.exists()
    assert stripe_fake.requests == []
    assert order_of(api, product, 4).status_code == 201  # exactly the maximum is fine


def test_units_of_one_product_are_capped_per_shopper_across_unpaid_orders(
    api, settings, client_for
):
    settings.MAX_RESERVED_PER_PRODUCT = 5
    scarce = ProductFactory(stock=100)
    other = ProductFactory(stock=100)
    assert order_of(api, scarce, 3).status_code == 201

    response = api.post_idem(
        "/api/v1/orders/",
        {
            "lines": [
                {"product_id": other.pk, "quantity": 1},
                {"product_id": scarce.pk, "quantity": 3},
            ]
        },
    )

    assert (response.status_code, error_code(response)) == (409, "too_many_reserved_units")
    assert str(scarce.pk) in response.json()["error"]["fields"]["product_id"][0]
    assert stock_of(scarce) == (97, 3)
    assert stock_of(other) == (100, 0)  # the whole order was refused
    assert order_of(api, scarce, 2).status_code == 201  # 5 in all: allowed
    assert order_of(api, scarce, 6).status_code == 409  # one order alone over the cap
    assert order_of(client_for(UserFactory()), scarce, 5).status_code == 201
    # Units of a cancelled order are no longer held.
    first = Order.objects.filter(lines__product=scarce, lines__quantity=3).get()
    api.post_idem(f"/api/v1/orders/{first.pk}/cancel/", {})
    assert order_of(api, scarce, 3).status_code == 201


def test_a_new_order_holds_stock_briefly_until_a_payment_starts(api, settings, stripe_fake):
    settings.ORDER_HOLD_MINUTES = 10
    settings.ORDER_RESERVATION_MINUTES = 30
    product = ProductFactory(stock=5)
    before = timezone.now()
    order = Order.objects.get(pk=order_of(api, product).json()["id"])
    assert before + timedelta(minutes=10) <= order.reserved_until
    assert order.reserved_until <= timezone.now() + timedelta(minutes=10)

    started = timezone.now()
    assert api.post_idem(f"/api/v1/orders/{order.pk}/payment-intent/", {}).status_code == 201

    order.refresh_from_db()
    assert started + timedelta(minutes=30) <= order.reserved_until
    assert order.reserved_until <= timezone.now() + timedelta(minutes=30)
    extended = order.reserved_until
    # Asking again hands out the same PaymentIntent and does not stretch the hold.
    assert api.post_idem(f"/api/v1/orders/{order.pk}/payment-intent/", {}).status_code == 201
    order.refresh_from_db()
    assert order.reserved_until == extended


def test_an_order_nobody_pays_gives_its_stock_back_after_the_short_hold(api, settings, monkeypatch):
    from core.housekeeping import run_cleanup

    settings.ORDER_HOLD_MINUTES = 10
    settings.ORDER_RESERVATION_MINUTES = 30
    product = ProductFactory(stock=5)
    order = Order.objects.get(pk=order_of(api, product, 2).json()["id"])
    created = timezone.now()

    def clock_at(minutes):
        monkeypatch.setattr(timezone, "now", lambda: created + timedelta(minutes=minutes))

    clock_at(9)
    run_cleanup()
    assert stock_of(product) == (3, 2)
    clock_at(11)  # not 30: no payment was started
    run_cleanup()

    order.refresh_from_db()
    assert order.status == "expired"
    assert stock_of(product) == (5, 0)
