"""What the card-testing tests share: orders and payments started through the API from an
address, declines as Stripe sends them, and what was closed at Stripe (their fixtures are
in this folder's conftest.py)."""

import itertools

from payments.models import PaymentAttempt
from tests import stripe_events as se
from tests.factories import ProductFactory

HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.77"
# Distinct card fingerprints and payment method ids: next(CARDS).
CARDS = itertools.count(1)


def new_order(client, address=HOME) -> int:
    product = ProductFactory(unit_amount=2500, stock=5)
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
    response = client.post_idem("/api/v1/orders/", body, REMOTE_ADDR=address)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def start(client, order_id, kind="payment-intent", address=HOME):
    return client.post_idem(f"/api/v1/orders/{order_id}/{kind}/", {}, REMOTE_ADDR=address)


def open_payment(client, kind="payment-intent", address=HOME) -> PaymentAttempt:
    order_id = new_order(client, address)
    response = start(client, order_id, kind, address)
    assert response.status_code == 201, response.content
    return PaymentAttempt.objects.filter(order_id=order_id).latest("number")


def card(fingerprint=None) -> dict:
    """A decline as Stripe puts it in last_payment_error (the payment method expanded)."""
    return {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "payment_method": {
            "id": f"pm_{next(CARDS)}",
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "0002", "fingerprint": fingerprint or "fpX"},
        },
    }


def decline(attempt, fingerprint=None, **kwargs) -> dict:
    """A payment_intent.payment_failed event: the card was confirmed with Stripe.js."""
    return se.event(
        "payment_intent.payment_failed",
        se.payment_intent(attempt, status="requires_payment_method", error=card(fingerprint)),
        **kwargs,
    )


def closed_at_stripe(stripe_fake) -> set[str]:
    """Ids of the PaymentIntents cancelled and Sessions expired at Stripe."""
    closed = set()
    for sent in stripe_fake.sent("POST"):
        parts = sent.path.strip("/").split("/")
        if parts[1] == "payment_intents" and parts[-1] == "cancel":
            closed.add(parts[2])
        if parts[1:3] == ["checkout", "sessions"] and parts[-1] == "expire":
            closed.add(parts[3])
    return closed


def fresh(obj):
    obj.refresh_from_db()
    return obj
