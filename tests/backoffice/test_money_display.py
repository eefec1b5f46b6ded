"""Money in the admin reads one way on every list and page: "61.00 USD", "1,800 JPY",
"1.230 KWD" (catalog.money.format_amount), never raw minor units."""

import re

import pytest
from django.utils import timezone

from catalog.money import format_amount, major_units
from payments.models import (
    Dispute,
    PaymentAttempt,
    PaymentDecline,
    ReconciliationMismatch,
    Refund,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "currency", "shown", "major"),
    [
        (6100, "usd", "61.00 USD", "61.00"),
        (0, "usd", "0.00 USD", "0.00"),
        (5, "eur", "0.05 EUR", "0.05"),
        (123456789, "usd", "1,234,567.89 USD", "1234567.89"),
        (1800, "jpy", "1,800 JPY", "1800"),
        (0, "jpy", "0 JPY", "0"),
        (1230, "kwd", "1.230 KWD", "1.230"),
        (5, "bhd", "0.005 BHD", "0.005"),
        (50000, "isk", "500.00 ISK", "500.00"),
        (-250, "usd", "-2.50 USD", "-2.50"),
    ],
)
def test_one_format_for_every_kind_of_currency(amount, currency, shown, major):
    assert format_amount(amount, currency) == shown
    assert str(major_units(amount, currency)) == major


@pytest.fixture
def kwd_rows():
    """An order in dinars (three decimals) with a line, a payment, a refund, a dispute, a
    decline and a mismatch: 12.340 KWD is stored as 12340."""
    order = OrderFactory(status="paid", currency="kwd", total=12340, subtotal=12340)
    attempt = PaymentAttempt.objects.create(
        order=order,
        number=1,
        kind="payment_intent",
        status="succeeded",
        stripe_payment_intent_id="pi_kwd",
        amount=12340,
        currency="kwd",
        amount_received=12340,
        amount_refunded=1230,
    )
    refund = Refund.objects.create(
        attempt=attempt,
        order=order,
        stripe_refund_id="re_kwd",
        amount=1230,
        currency="kwd",
        status="succeeded",
    )
    dispute = Dispute.objects.create(
        attempt=attempt,
        order=order,
        stripe_dispute_id="dp_kwd",
        amount=12340,
        currency="kwd",
        status="needs_response",
    )
    decline = PaymentDecline.objects.create(
        stripe_event_id="evt_kwd_decline",
        attempt=attempt,
        code="card_declined",
        declined_at=timezone.now(),
    )
    return {"order": order, "attempt": attempt, "refund": refund, "dispute": dispute, "d": decline}


RAW = re.compile(r">\s*(12340|1230)\s*<")  # a bare minor-unit amount in a cell


def test_every_list_and_page_shows_money_in_major_units(admin_client, kwd_rows):
    pages = {
        "/admin/orders/order/": ["12.340 KWD"],
        f"/admin/orders/order/{kwd_rows['order'].pk}/change/": [
            "12.340 KWD",  # subtotal, total, line, payment, dispute
            "1.230 KWD",  # refunded on the payment, the refund
        ],
        "/admin/payments/paymentattempt/": ["12.340 KWD"],
        f"/admin/payments/paymentattempt/{kwd_rows['attempt'].pk}/change/": [
            "12.340 KWD",
            "1.230 KWD",
        ],
        "/admin/payments/refund/": ["1.230 KWD"],
        f"/admin/payments/refund/{kwd_rows['refund'].pk}/change/": ["1.230 KWD"],
        "/admin/payments/dispute/": ["12.340 KWD"],
        f"/admin/payments/dispute/{kwd_rows['dispute'].pk}/change/": ["12.340 KWD"],
        "/admin/payments/paymentdecline/": ["12.340 KWD"],
    }
    for path, expected in pages.items():
        html = admin_client.get(path).content.decode()
        for text in expected:
            assert text in html, path
        assert not RAW.search(html), f"{path}: {RAW.search(html).group(0)}"


def test_the_order_page_shows_each_line_in_the_orders_currency(admin_client, kwd_rows):
    order = kwd_rows["order"]
    html = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    line = re.search(r'<td class="field-unit_price">\s*<p>([^<]+)</p>', html)
    assert line and line.group(1).strip() == "12.340 KWD"
    assert 'name="_save"' not in html  # nothing to save on this page


def test_the_refund_page_states_what_was_paid_in_major_units(staff_client, kwd_rows):
    client = staff_client("orders.view_order", "orders.refund_order")
    html = client.get(f"/admin/orders/order/{kwd_rows['order'].pk}/refund/").content.decode()
    assert 'Paid: <strong id="paid">12.340 KWD</strong>' in html
    assert "minor units" not in html
    assert 'value="11.110"' in html  # prefilled: 12.340 paid less 1.230 refunded


def test_a_mismatch_names_both_sides_amounts_in_major_units(admin_client, kwd_rows):
    from payments.reconciliation.checks import money

    assert money(12340, "kwd") == "12.340 KWD"
    assert money(12340, "KWD") == "12.340 KWD"  # as Stripe might send it
    assert money(None, "kwd") == "None kwd"  # Stripe sent no amount: shown as it came
    mismatch = ReconciliationMismatch.objects.create(
        kind="amount",
        subject="pi_kwd",
        order=kwd_rows["order"],
        local_state=f"succeeded, {money(12340, 'kwd')}",
        stripe_state=f"succeeded, {money(12330, 'kwd')}",
        last_seen_at=timezone.now(),
    )
    html = admin_client.get(
        f"/admin/payments/reconciliationmismatch/{mismatch.pk}/change/"
    ).content.decode()
    assert "succeeded, 12.340 KWD" in html and "succeeded, 12.330 KWD" in html


def test_stripes_state_with_an_amount_is_shown_as_money(admin_client, kwd_rows):
    # Reconciliation keeps Stripe's state as the key of its fix ("succeeded/12340");
    # staff read the amount in dinars.
    mismatch = ReconciliationMismatch.objects.create(
        kind="paid_at_stripe",
        subject="pi_kwd",
        order=kwd_rows["order"],
        attempt=kwd_rows["attempt"],
        local_state="requires_payment",
        stripe_state="succeeded/12340",
        last_seen_at=timezone.now(),
    )
    listing = admin_client.get("/admin/payments/reconciliationmismatch/").content.decode()
    page = admin_client.get(
        f"/admin/payments/reconciliationmismatch/{mismatch.pk}/change/"
    ).content.decode()
    for html in (listing, page):
        assert "succeeded, 12.340 KWD" in html
        assert "12340" not in html.replace("pi_kwd", "")
