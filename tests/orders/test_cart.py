import pytest
from django.test import override_settings

from orders.models import CartLine
from tests.conftest import error_code
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_empty_cart(api):
    assert api.get("/api/v1/cart/").json() == {"lines": [], "currency": None, "subtotal": 0}


def test_adding_lines_prices_them_from_the_catalog_and_merges_the_same_product(api):
    tee = ProductFactory(name="Tee", unit_amount=2500)
    mug = ProductFactory(name="Mug", unit_amount=1800)

    first = api.post("/api/v1/cart/lines/", {"product_id": tee.pk, "quantity": 2})
    assert first.status_code == 201
    api.post("/api/v1/cart/lines/", {"product_id": mug.pk, "quantity": 1})
    again = api.post("/api/v1/cart/lines/", {"product_id": tee.pk, "quantity": 1})

    cart = again.json()
    assert again.status_code == 201
    assert cart["currency"] == "usd"
    assert [(line["name"], line["quantity"], line["line_total"]) for line in cart["lines"]] == [
        ("Tee", 3, 7500),
        ("Mug", 1, 1800),
    ]
    assert cart["subtotal"] == 9300
    assert CartLine.objects.count() == 2


def test_a_cart_holds_one_currency(api):
    api.post(
        "/api/v1/cart/lines/", {"product_id": ProductFactory(currency="usd").pk, "quantity": 1}
    )
    response = api.post(
        "/api/v1/cart/lines/", {"product_id": ProductFactory(currency="eur").pk, "quantity": 1}
    )
    assert response.status_code == 400
    assert error_code(response) == "currency_mismatch"
    assert CartLine.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"product_id": 1, "quantity": 0},
        {"product_id": 1, "quantity": 1001},
        {"product_id": 1, "quantity": "many"},
        {"product_id": "x", "quantity": 1},
        # Beyond 64 bits: refused while parsing, before any field is looked at.
        pytest.param({"product_id": 2**70, "quantity": 1}, id="huge-number"),
        {"product_id": 1},
        {"product_id": 1, "quantity": 1, "unit_amount": 1},
        [],
    ],
)
def test_bad_line_input_is_400_and_changes_nothing(api, body):
    ProductFactory(pk=1)
    response = api.post("/api/v1/cart/lines/", body)
    assert response.status_code == 400
    huge = body == {"product_id": 2**70, "quantity": 1}
    assert error_code(response) == ("malformed_json" if huge else "validation_error")
    assert CartLine.objects.count() == 0


def test_quantity_across_adds_is_capped(api, product):
    api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1000})
    response = api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
    assert response.status_code == 400
    assert CartLine.objects.get().quantity == 1000


def test_unknown_or_inactive_product_is_refused(api):
    inactive = ProductFactory(active=False)
    for product_id in (inactive.pk, 424242):
        response = api.post("/api/v1/cart/lines/", {"product_id": product_id, "quantity": 1})
        assert response.status_code == 400
        assert error_code(response) == "product_unavailable"


@override_settings(CART_MAX_LINES=3)
def test_cart_line_limit(api):
    for _ in range(3):
        api.post("/api/v1/cart/lines/", {"product_id": ProductFactory().pk, "quantity": 1})
    response = api.post("/api/v1/cart/lines/", {"product_id": ProductFactory().pk, "quantity": 1})
    assert response.status_code == 400
    assert error_code(response) == "cart_full"
    assert CartLine.objects.count() == 3


def test_change_and_remove_lines_and_other_shoppers_lines_are_404(api, client_for, product):
    line_id = api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1}).json()[
        "lines"
    ][0]["id"]
    changed = api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 4})
    assert changed.status_code == 200
    assert changed.json()["subtotal"] == 4 * product.unit_amount
    assert api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 0}).status_code == 400

    other = client_for(UserFactory())
    assert other.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 9}).status_code == 404
    assert other.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 404
    assert CartLine.objects.get().quantity == 4

    assert api.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 204
    assert api.get("/api/v1/cart/").json() == {"lines": [], "currency": None, "subtotal": 0}
