"""Whatever Stripe or a shopper wrote is shown to staff as text, never run as markup."""

import pytest
from django.utils import timezone

from audit.services import record
from payments.models import (
    Dispute,
    PaymentAttempt,
    ReconciliationMismatch,
    Refund,
    WebhookEvent,
)
from tests.factories import OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("xss")</script>'
ESCAPED = "&lt;script&gt;alert("


@pytest.fixture
def hostile_rows():
    """One row of every kind the admin shows, each carrying a script where text can go."""
    product = ProductFactory(name=f"Mug {XSS}", description=XSS)
    order = OrderFactory()
    order.lines.update(name=f"Mug {XSS}")
    attempt = PaymentAttempt.objects.create(
        order=order,
        number=1,
        kind="payment_intent",
        status="failed",
        stripe_payment_intent_id="pi_xss",
        amount=order.total,
        currency="usd",
        failure_code="card_declined",
        failure_message=f"Declined {XSS}",
    )
    refund = Refund.objects.create(
        attempt=attempt,
        order=order,
        stripe_refund_id="re_xss",
        amount=100,
        currency="usd",
        status="failed",
        reason=f"Customer said {XSS}",
        failure_reason=XSS[:255],
    )
    dispute = Dispute.objects.create(
        attempt=attempt,
        order=order,
        stripe_dispute_id="dp_xss",
        amount=100,
        currency="usd",
        status="needs_response",
        reason=XSS,
    )
    event = WebhookEvent.objects.create(
        stripe_event_id="evt_xss",
        type="payment_intent.payment_failed",
        status="failed",
        last_error=f"KeyError: {XSS}",
        order_id=order.pk,
        payload={
            "id": "evt_xss",
            "data": {
                "object": {
                    "metadata": {"note": XSS},
                    "shipping": {"name": XSS, "address": {"line1": XSS}},
                    "last_payment_error": {"message": XSS},
                }
            },
        },
    )
    entry = record(
        "order.note",
        actor_label=f"stripe {XSS}",
        order=order,
        details={"reason": XSS, "customer_name": XSS},
    )
    mismatch = ReconciliationMismatch.objects.create(
        kind="amount",
        subject=f"pi_{XSS}"[:255],
        order=order,
        attempt=attempt,
        local_state=XSS,
        stripe_state=XSS,
        details={"note": XSS},
        last_seen_at=timezone.now(),
    )
    return {
        "catalog/product": product,
        "orders/order": order,
        "payments/paymentattempt": attempt,
        "payments/refund": refund,
        "payments/dispute": dispute,
        "payments/webhookevent": event,
        "audit/auditentry": entry,
        "payments/reconciliationmismatch": mismatch,
    }


# Pages whose list shows one of the hostile fields (the others show ids and amounts only).
LISTS_SHOWING_TEXT = {"catalog/product", "payments/dispute", "payments/reconciliationmismatch"}


def test_every_admin_page_shows_stripe_and_shopper_text_escaped(admin_client, hostile_rows):
    for path, row in hostile_rows.items():
        listing = admin_client.get(f"/admin/{path}/")
        page = admin_client.get(f"/admin/{path}/{row.pk}/change/")
        for response in (listing, page):
            html = response.content.decode()
            assert response.status_code == 200, path
            assert XSS not in html and "<script>alert(" not in html, path
        assert ESCAPED in page.content.decode(), f"{path}: the text is not shown at all"
        if path in LISTS_SHOWING_TEXT:
            assert ESCAPED in listing.content.decode(), path


def test_the_order_page_escapes_its_lines_payments_refunds_and_disputes(admin_client, hostile_rows):
    order = hostile_rows["orders/order"]
    html = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert XSS not in html
    # line name, failure message, refund reason and failure, dispute reason, audit details
    assert html.count(ESCAPED) >= 6
