import pytest

from catalog.models import Product
from orders.models import Order
from tests.concurrency import run_in_threads
from tests.conftest import ShopClient
from tests.factories import ProductFactory, UserFactory, token_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _client(user):
    client = ShopClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_two_shoppers_racing_for_the_last_unit_one_wins_one_gets_409():
    last = ProductFactory(stock=1, sku="LAST-ONE")
    shoppers = [_client(UserFactory()) for _ in range(2)]
    body = {"lines": [{"product_id": last.pk, "quantity": 1}]}

    responses = run_in_threads([lambda c=c: c.post_idem("/api/v1/orders/", body) for c in shoppers])

    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"]["code"] == "insufficient_stock"
    last.refresh_from_db()
    assert (last.stock, last.reserved) == (0, 1)
    assert Order.objects.count() == 1


def test_many_shoppers_never_oversell_and_stock_never_goes_negative():
    products = [ProductFactory(stock=3), ProductFactory(stock=3)]
    shoppers = [_client(UserFactory()) for _ in range(8)]
    # Half order (a, b), half order (b, a): lock order must not deadlock.
    bodies = [
        {
            "lines": [
                {"product_id": p.pk, "quantity": 1} for p in (products if i % 2 else products[::-1])
            ]
        }
        for i in range(8)
    ]

    responses = run_in_threads(
        [
            lambda c=c, b=b: c.post_idem("/api/v1/orders/", b)
            for c, b in zip(shoppers, bodies, strict=True)
        ]
    )

    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 5
    for product in Product.objects.all():
        assert (product.stock, product.reserved) == (0, 3)
    assert Order.objects.count() == 3


def test_one_shopper_posting_orders_at_once_cannot_pass_the_pending_limit(settings):
    settings.MAX_PENDING_ORDERS = 3
    product = ProductFactory(stock=50)
    shopper = UserFactory()
    clients = [_client(shopper) for _ in range(6)]
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}

    responses = run_in_threads([lambda c=c: c.post_idem("/api/v1/orders/", body) for c in clients])

    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 3
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "too_many_pending_orders"
    }
    assert Order.objects.filter(user=shopper).count() == 3
    product.refresh_from_db()
    assert (product.stock, product.reserved) == (47, 3)


def test_one_shopper_racing_for_one_product_cannot_pass_the_reserved_units_cap(settings):
    settings.MAX_RESERVED_PER_PRODUCT = 4
    product = ProductFactory(stock=50)
    shopper = UserFactory()
    clients = [_client(shopper) for _ in range(3)]
    body = {"lines": [{"product_id": product.pk, "quantity": 2}]}

    responses = run_in_threads([lambda c=c: c.post_idem("/api/v1/orders/", body) for c in clients])

    assert sorted(r.status_code for r in responses) == [201, 201, 409]
    product.refresh_from_db()
    assert product.reserved == 4
