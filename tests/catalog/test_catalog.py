import pytest

from tests.conftest import error_code
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_products_list_shows_only_active_products_paginated(anon):
    visible = ProductFactory(name="Visible", unit_amount=1250, currency="eur", stock=7)
    ProductFactory(name="Hidden", active=False)

    response = anon.get("/api/v1/products/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": visible.pk,
            "sku": visible.sku,
            "name": "Visible",
            "description": "A thing.",
            "unit_amount": 1250,
            "currency": "eur",
            "available_quantity": 7,
        }
    ]


def test_product_detail_and_404s(anon):
    product = ProductFactory()
    hidden = ProductFactory(active=False)
    assert anon.get(f"/api/v1/products/{product.pk}/").json()["sku"] == product.sku
    for path in (
        f"/api/v1/products/{hidden.pk}/",
        "/api/v1/products/999999/",
        "/api/v1/products/abc/",
        "/api/v1/products/99999999999999999999999/",
        "/api/v1/no-such-thing/",
    ):
        response = anon.get(path)
        assert response.status_code == 404, path
        assert error_code(response) == "not_found"


def test_a_bad_page_number_is_a_404_in_the_error_body(anon):
    ProductFactory()
    response = anon.get("/api/v1/products/?page=99")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
