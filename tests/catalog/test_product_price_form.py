"""Staff type a product's price as it is written ("12.50"); the shop stores minor units."""

import pytest

from catalog.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/catalog/product/add/"


def form(**overrides):
    return {
        "sku": "MUG-1",
        "name": "Mug",
        "description": "",
        "price": "12.50",
        "currency": "usd",
        "stock": "5",
        "active": "on",
        **overrides,
    }


@pytest.fixture
def catalog_staff(staff_client):
    return staff_client("catalog.add_product", "catalog.change_product", "catalog.view_product")


@pytest.mark.parametrize(
    ("price", "currency", "stored"),
    [
        ("12.50", "usd", 1250),
        ("12.5", "usd", 1250),
        ("12", "usd", 1200),
        ("0.50", "eur", 50),
        ("1800", "jpy", 1800),
        ("1.230", "kwd", 1230),
        ("500", "isk", 50000),
        ("999999.99", "usd", 99_999_999),
    ],
)
def test_a_price_in_major_units_is_stored_in_minor_units(catalog_staff, price, currency, stored):
    response = catalog_staff.post(ADD, form(price=price, currency=currency))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Product.objects.get().unit_amount == stored


@pytest.mark.parametrize(
    ("price", "currency", "error"),
    [
        ("12.505", "usd", "USD has 2 decimal places."),
        ("12.5", "jpy", "JPY has 0 decimal places."),
        ("1.2345", "kwd", "KWD has 3 decimal places."),
        ("1.235", "kwd", "KWD amounts must end in 0"),
        ("5.50", "isk", "ISK amounts must be whole ISK"),
        ("-1.00", "usd", "Enter a price above zero."),
        ("0", "usd", "Enter a price above zero."),
        ("1000000.00", "usd", "At most 999,999.99 USD"),
        ("twelve", "usd", "Enter a number."),
    ],
)
def test_a_price_the_currency_cannot_have_is_refused(catalog_staff, price, currency, error):
    response = catalog_staff.post(ADD, form(price=price, currency=currency))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Product.objects.exists()


def test_the_change_form_shows_the_stored_price_in_major_units(catalog_staff):
    product = ProductFactory(unit_amount=1230, currency="kwd")
    page = catalog_staff.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert 'name="price" value="1.230"' in page
    assert 'name="unit_amount"' not in page
    listing = catalog_staff.get("/admin/catalog/product/").content.decode()
    assert "1.230 KWD" in listing

    saved = catalog_staff.post(
        f"/admin/catalog/product/{product.pk}/change/",
        form(sku=product.sku, name=product.name, price="2.500", currency="kwd"),
    )
    assert saved.status_code == 302
    product.refresh_from_db()
    assert product.unit_amount == 2500
