"""Stripe's currency rules, everywhere an amount is made: catalog, orders, payments, refunds.

Three-decimal currencies (BHD, JOD, KWD, OMR, TND) take amounts whose last digit is 0;
ISK and UGX are whole units sent in hundredths; every charge has a minimum. An amount
that breaks a rule is refused with 400 `invalid_amount` before stock moves or Stripe is
called.
"""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEntry
from catalog import money
from catalog.models import Product
from catalog.services import save_product
from core.errors import ShopError
from orders.models import Order
from payments.models import PaymentAttempt, Refund
from payments.refunds import services
from stripe_emulator import money as emulator_money
from tests import stripe_events as se
from tests.conftest import error_code
from tests.factories import ProductFactory
from tests.staff import refund_url

pytestmark = pytest.mark.django_db


def order_of(api, product, quantity=1):
    return api.post_idem(
        "/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": quantity}]}
    )


# --- the rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, currency, expected",
    [
        ("1.23", "kwd", 1230),
        ("1.230", "kwd", 1230),
        ("12.50", "usd", 1250),
        ("500", "jpy", 500),
        ("5", "isk", 500),
        ("5.00", "ugx", 500),
    ],
)
def test_decimal_text_becomes_minor_units_exactly(text, currency, expected):
    assert money.minor_units(text, currency) == expected


@pytest.mark.parametrize(
    "amount, currency, shown",
    [
        (6100, "usd", "61.00"),
        (0, "usd", "0.00"),
        (7, "eur", "0.07"),
        (500, "jpy", "500"),
        (0, "jpy", "0"),
        (1230, "kwd", "1.230"),
        (500, "isk", "5.00"),
    ],
)
def test_minor_units_become_the_decimal_an_export_shows_and_back(amount, currency, shown):
    assert str(money.major_units(amount, currency)) == shown
    assert money.minor_units(shown, currency) == amount


@pytest.mark.parametrize(
    "text, currency",
    [
        ("1.235", "kwd"),  # the audit's amount: a last digit Stripe's partners refuse
        ("0.001", "bhd"),
        ("1.005", "usd"),
        ("1.5", "jpy"),
        ("5.50", "isk"),  # ISK is whole krónur now
        ("5.01", "ugx"),
        ("NaN", "usd"),
        ("Infinity", "usd"),
    ],
)
def test_amounts_stripe_would_refuse_do_not_parse(text, currency):
    with pytest.raises(ValueError):
        money.minor_units(text, currency)


def test_the_emulator_knows_the_same_rules_as_the_shop():
    assert emulator_money.MINIMUM_CHARGE == money.MINIMUM_CHARGE
    assert emulator_money.DEFAULT_MINIMUM_CHARGE == money.DEFAULT_MINIMUM_CHARGE
    assert emulator_money.THREE_DECIMAL == money.THREE_DECIMAL_CURRENCIES
    assert emulator_money.WHOLE_UNITS_IN_HUNDREDTHS == money.WHOLE_UNITS_IN_HUNDREDTHS
    assert emulator_money.ZERO_DECIMAL == money.ZERO_DECIMAL_CURRENCIES
    for currency in money.MINIMUM_CHARGE:
        # Every minimum is itself an amount Stripe accepts.
        assert money.step_problem(money.minimum_charge(currency), currency) is None


# --- catalog ---------------------------------------------------------------------------------
class TestCatalog:
    def test_the_product_service_refuses_a_kwd_price_stripe_would_refuse(self):
        with pytest.raises(ShopError) as caught:
            save_product(sku="OUD-1", name="Oud oil", unit_amount=1235, currency="kwd", stock=5)
        assert (caught.value.status, caught.value.code) == (400, "invalid_amount")
        assert "unit_amount" in caught.value.fields
        assert not Product.objects.exists()

        saved = save_product(sku="OUD-1", name="Oud oil", unit_amount=1230, currency="kwd")
        assert Product.objects.get(pk=saved.pk).unit_amount == 1230
        with pytest.raises(ShopError) as caught:
            save_product(saved, unit_amount=1231)
        assert caught.value.code == "invalid_amount"
        assert Product.objects.get(pk=saved.pk).unit_amount == 1230

    def test_isk_and_ugx_prices_are_whole_units(self):
        for currency in ("isk", "ugx"):
            with pytest.raises(ShopError) as caught:
                save_product(sku=f"{currency}-1", name="x", unit_amount=550, currency=currency)
            assert caught.value.code == "invalid_amount"
        assert save_product(sku="isk-ok", name="x", unit_amount=500_00, currency="isk").pk

    def test_the_database_refuses_a_price_written_around_the_model(self):
        product = ProductFactory(unit_amount=1230, currency="kwd")
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.filter(pk=product.pk).update(unit_amount=1235)
        with pytest.raises(IntegrityError), transaction.atomic():
            ProductFactory(unit_amount=150, currency="isk")
        product.refresh_from_db()
        assert product.unit_amount == 1230

    def test_the_admin_product_form_refuses_1_235_kwd(self, staff_client):
        client = staff_client("add_product", "view_product", "change_product")
        form = {
            "sku": "OUD-1",
            "name": "Oud oil",
            "description": "",
            "price": "1.235",  # typed in dinars, as written
            "currency": "kwd",
            "stock": "5",
            "active": "on",
        }
        response = client.post("/admin/catalog/product/add/", form)
        assert response.status_code == 200  # the form again, with the error
        assert b"KWD amounts must end in 0" in response.content
        assert not Product.objects.exists()

        response = client.post("/admin/catalog/product/add/", {**form, "price": "1.230"})
        assert response.status_code == 302
        assert Product.objects.get().unit_amount == 1230


# --- orders ----------------------------------------------------------------------------------
@pytest.mark.postgres
def test_an_order_whose_kwd_total_breaks_the_rule_is_refused_before_stock_moves(api, stripe_fake):
    # A price stored before the rules existed: the constraint is lifted for this test only
    # (the test's transaction puts it back).
    legacy = ProductFactory(unit_amount=1230, currency="kwd", stock=5)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE catalog_product DROP CONSTRAINT product_unit_amount_three_decimal_step"
        )
        cursor.execute("UPDATE catalog_product SET unit_amount = 1235 WHERE id = %s", [legacy.pk])

    response = order_of(api, legacy, 2)

    assert (response.status_code, error_code(response)) == (400, "invalid_amount")
    assert "KWD" in response.json()["error"]["message"]
    legacy.refresh_from_db()
    assert (legacy.stock, legacy.reserved) == (5, 0)
    assert not Order.objects.exists()
    assert stripe_fake.requests == []
    refused = AuditEntry.objects.get(action="order.create", outcome="refused")
    assert refused.details["code"] == "invalid_amount"


def test_a_valid_kwd_order_is_charged_to_the_fils(api, stripe_fake):
    oil = ProductFactory(unit_amount=12_340, currency="kwd", stock=5)
    order = Order.objects.get(pk=order_of(api, oil, 2).json()["id"])
    assert (order.total, order.currency) == (24_680, "kwd")

    response = api.post_idem(f"/api/v1/orders/{order.pk}/payment-intent/", {})

    assert response.status_code == 201
    assert response.json()["amount"] == 24_680
    [sent] = stripe_fake.sent("POST", "/v1/payment_intents")
    assert (sent.params["amount"], sent.params["currency"]) == ("24680", "kwd")


# --- payments --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "unit_amount, currency",
    [
        (190, "kwd"),  # 0.190 KWD: under Stripe's minimum (about USD 0.50)
        (40, "usd"),  # Stripe's table: USD 0.50
        (9_900, "isk"),  # 99 ISK
        (49, "jpy"),
    ],
)
@pytest.mark.parametrize("kind", ["payment-intent", "checkout-session"])
def test_a_charge_below_stripes_minimum_is_refused_before_stripe(
    api, stripe_fake, unit_amount, currency, kind
):
    product = ProductFactory(unit_amount=unit_amount, currency=currency, stock=5)
    order = Order.objects.get(pk=order_of(api, product).json()["id"])

    response = api.post_idem(f"/api/v1/orders/{order.pk}/{kind}/", {})

    assert (response.status_code, error_code(response)) == (400, "invalid_amount")
    assert "smallest amount" in response.json()["error"]["message"]
    assert stripe_fake.requests == []
    assert not PaymentAttempt.objects.exists()
    refused = AuditEntry.objects.get(action="payment_attempt.create", outcome="refused")
    assert refused.details["code"] == "invalid_amount"


# --- refunds ---------------------------------------------------------------------------------
@pytest.fixture
def paid_kwd_order(send_event, start_payment):
    attempt = start_payment(lines=((12_340, 1),), currency="kwd")
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    attempt.refresh_from_db()
    assert attempt.amount_received == 12_340
    return attempt.order


class TestRefunds:
    def test_the_admin_form_refuses_1_235_kwd_and_audits_it(
        self,
        staff_client,
        paid_kwd_order,
        stripe_fake,
    ):
        client = staff_client("view_order", "refund_order")
        response = client.post(
            refund_url(paid_kwd_order),
            {"amount": "1.235", "reason": "Damaged", "request_id": str(uuid.uuid4())},
        )
        assert response.status_code == 200
        assert b"KWD amounts must end in 0" in response.content
        assert b"confirm-text" not in response.content  # no confirmation step offered

        # The same with "confirmed" forged in: still refused, nothing sent.
        client.post(
            refund_url(paid_kwd_order),
            {
                "amount": "1.235",
                "reason": "Damaged",
                "request_id": str(uuid.uuid4()),
                "confirmed": "True",
            },
        )
        assert stripe_fake.sent("POST", "/v1/refunds") == []
        assert not Refund.objects.exists()
        refused = AuditEntry.objects.filter(action="refund.request", outcome="refused")
        assert [(e.details["code"], e.order_id, e.actor_id) for e in refused] == [
            ("invalid_amount", paid_kwd_order.pk, client.user.pk)
        ] * 2

    def test_the_admin_form_takes_a_valid_kwd_amount(
        self,
        staff_client,
        paid_kwd_order,
        stripe_fake,
    ):
        from tests.staff import submit_refund

        client = staff_client("view_order", "refund_order")
        submit_refund(client, paid_kwd_order, "1.230")
        [sent] = stripe_fake.sent("POST", "/v1/refunds")
        assert sent.params["amount"] == "1230"

    def test_the_refund_service_refuses_an_amount_that_breaks_the_rule(
        self, paid_kwd_order, stripe_fake
    ):
        staff = paid_kwd_order.user  # who asks does not matter to the rule
        with pytest.raises(ShopError) as caught:
            services.create_refund(
                order_id=paid_kwd_order.pk,
                amount=1235,
                reason="x",
                staff_user=staff,
                request_uuid=uuid.uuid4(),
            )
        assert (caught.value.status, caught.value.code) == (400, "invalid_amount")
        assert caught.value.audit["action"] == "refund.request"
        assert stripe_fake.sent("POST", "/v1/refunds") == []
        assert not Refund.objects.exists()
