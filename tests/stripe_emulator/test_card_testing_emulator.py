"""Card testing against the Stripe emulator: cards confirmed straight at Stripe (as Stripe.js
does with the client secret), the declines coming back only as signed webhooks, and the
open PaymentIntents and Sessions closed at the emulator."""

import pytest
import stripe

from devstack import wait_until
from payments.checkout.services import start_checkout_session, start_payment_intent
from payments.errors import TooManyFailedPayments
from payments.gateway import client as stripe_client
from tests.emulator_settings import point_shop_at
from tests.factories import OrderFactory
from tests.stripe_emulator.helpers import RETURN_URL, WEBHOOK_SECRET

DECLINING_CARD = "pm_card_visa_chargeDeclined"


@pytest.fixture
def stripe_emulator(settings, emulator):
    point_shop_at(
        settings,
        emulator,
        secret_key="sk_test_card_testing",
        webhook_secret=WEBHOOK_SECRET,
        STRIPE_PUBLISHABLE_KEY="pk_test_card_testing",
        # Only the card key is under test.
        PAYMENT_FAILURES_PER_HOUR=100,
        PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR=100,
        PAYMENT_FAILURES_PER_ATTEMPT=100,
        PAYMENT_FAILURES_PER_CARD_PER_HOUR=3,
    )
    yield emulator
    stripe_client.use_http_client(None)


@pytest.fixture
def feed_to_shop(anon, receiver, django_capture_on_commit_callbacks):
    """POST every new delivery, exactly as received, to the shop's webhook view."""
    fed = set()

    def feed(until: str, count: int):
        wait_until(
            lambda: [e["type"] for e in receiver.events()].count(until) >= count,
            timeout=10,
            what=f"{count} x {until}",
        )
        for delivery in list(receiver.received):
            key = delivery["body"]
            if key in fed:
                continue
            fed.add(key)
            with django_capture_on_commit_callbacks(execute=True):
                response = anon.generic(
                    "POST",
                    "/api/v1/webhooks/stripe/",
                    delivery["body"],
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=delivery["headers"]["Stripe-Signature"],
                )
            assert response.status_code == 200, response.content

    return feed


def confirm_at_stripe(emulator, intent_id: str) -> None:
    """The card tester, with the client secret: no request reaches the shop."""
    with pytest.raises(stripe.CardError):
        emulator.client().v1.payment_intents.confirm(
            intent_id, params={"payment_method": DECLINING_CARD, "return_url": RETURN_URL}
        )


@pytest.mark.django_db
def test_one_card_declined_for_two_shoppers_closes_their_payments_at_stripe(
    stripe_emulator, feed_to_shop
):
    first, second = OrderFactory(), OrderFactory()
    first_intent = start_payment_intent(
        user=first.user, order_id=first.pk, client_address="192.0.2.1"
    ).attempt
    second_intent = start_payment_intent(
        user=second.user, order_id=second.pk, client_address="192.0.2.2"
    ).attempt
    third = OrderFactory(user=first.user)
    session = start_checkout_session(
        user=first.user, order_id=third.pk, client_address="192.0.2.1"
    ).attempt

    confirm_at_stripe(stripe_emulator, first_intent.stripe_payment_intent_id)
    confirm_at_stripe(stripe_emulator, first_intent.stripe_payment_intent_id)
    feed_to_shop("payment_intent.payment_failed", 2)
    client = stripe_emulator.client()
    assert client.v1.payment_intents.retrieve(first_intent.stripe_payment_intent_id).status == (
        "requires_payment_method"
    )

    confirm_at_stripe(stripe_emulator, second_intent.stripe_payment_intent_id)
    feed_to_shop("payment_intent.payment_failed", 3)

    # At Stripe: both shoppers' PaymentIntents cancelled, the first one's Session expired;
    # the client secrets already handed out no longer take a card.
    for attempt in (first_intent, second_intent):
        intent = client.v1.payment_intents.retrieve(attempt.stripe_payment_intent_id)
        assert intent.status == "canceled"
    checkout = client.v1.checkout.sessions.retrieve(session.stripe_checkout_session_id)
    assert checkout.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(
            first_intent.stripe_payment_intent_id,
            params={"payment_method": "pm_card_visa", "return_url": RETURN_URL},
        )
    with pytest.raises(TooManyFailedPayments) as refused:
        start_payment_intent(
            user=second.user, order_id=OrderFactory(user=second.user).pk, client_address="x"
        )
    assert 0 < refused.value.retry_after <= 3600
