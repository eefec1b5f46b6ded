"""The shop against the Stripe emulator: the real SDK client of `payments.gateway.client`,
real HTTP, real signed webhooks fed to the shop's own webhook view."""

import json
import urllib.request
import uuid

import pytest
import stripe
from django.conf import settings

from devstack import wait_until
from orders.models import OrderStatus
from orders.services import cancel_order
from payments.checkout.services import start_checkout_session, start_payment_intent
from payments.errors import PaymentInProgress
from payments.gateway import client as stripe_client
from payments.refunds.services import create_refund
from payments.webhooks.verification import parse_event, verify_signature
from tests.emulator_settings import point_shop_at
from tests.factories import OrderFactory, UserFactory
from tests.stripe_emulator.helpers import RETURN_URL, WEBHOOK_SECRET


@pytest.fixture
def shop_on_emulator(settings, emulator):
    point_shop_at(
        settings,
        emulator,
        secret_key="sk_test_shop_on_emulator",
        webhook_secret=WEBHOOK_SECRET,
        STRIPE_PUBLISHABLE_KEY="pk_test_shop_on_emulator",
    )
    yield emulator
    stripe_client.use_http_client(None)


@pytest.fixture
def feed_to_shop(anon, django_capture_on_commit_callbacks):
    """POST each delivery, exactly as received, to the shop's webhook view."""

    def feed(deliveries):
        for delivery in deliveries:
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


def deliveries_until(receiver, event_type: str) -> list[dict]:
    wait_until(
        lambda: event_type in [e["type"] for e in receiver.events()],
        timeout=10,
        what=event_type,
    )
    return list(receiver.received)


@pytest.mark.django_db
def test_payment_intent_from_the_shop_confirmed_like_stripe_js(
    shop_on_emulator, receiver, feed_to_shop
):
    order = OrderFactory(total=4200, subtotal=4200, currency="eur")

    started = start_payment_intent(user=order.user, order_id=order.pk)

    intent_id = started.attempt.stripe_payment_intent_id
    assert intent_id.startswith("pi_")
    assert started.client_secret.startswith(f"{intent_id}_secret_")
    confirm = urllib.request.Request(
        f"{shop_on_emulator.url}/v1/payment_intents/{intent_id}/confirm",
        data=(
            f"key=pk_test_shop_on_emulator&client_secret={started.client_secret}"
            "&payment_method=pm_card_visa"
        ).encode(),
        method="POST",
    )
    with urllib.request.urlopen(confirm, timeout=10) as response:
        assert json.loads(response.read())["status"] == "succeeded"

    deliveries = deliveries_until(receiver, "payment_intent.succeeded")
    for delivery in deliveries:
        verify_signature(
            delivery["body"], delivery["headers"]["Stripe-Signature"], [WEBHOOK_SECRET]
        )
        event = parse_event(delivery["body"])
        assert event["api_version"] == "2026-08-26.dahlia"
    succeeded = parse_event(deliveries[-1]["body"])["data"]["object"]
    assert succeeded["metadata"] == {
        "shop": settings.SHOP_ID,
        "order_id": str(order.pk),
        "attempt": "1",
    }
    assert (succeeded["amount_received"], succeeded["currency"]) == (4200, "eur")

    feed_to_shop(deliveries)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    attempt = order.payment_attempts.get()
    assert (attempt.status, attempt.amount_received) == ("succeeded", 4200)
    assert attempt.stripe_charge_id == succeeded["latest_charge"]


@pytest.mark.django_db
def test_checkout_session_from_the_shop_paid_on_the_hosted_page(
    shop_on_emulator, receiver, feed_to_shop
):
    order = OrderFactory(total=1999, subtotal=1999)

    started = start_checkout_session(user=order.user, order_id=order.pk)

    assert started.url.startswith(f"{shop_on_emulator.url}/c/pay/cs_test_")
    session_id = started.attempt.stripe_checkout_session_id
    status, body = shop_on_emulator.control(
        "POST", f"/checkout_sessions/{session_id}/pay", {"card": "4242424242424242"}
    )
    assert status == 200
    assert body["redirect"].endswith(f"orders/{order.pk}?session_id={session_id}")

    deliveries = deliveries_until(receiver, "checkout.session.completed")
    completed = parse_event(deliveries[-1]["body"])
    assert completed["data"]["object"]["payment_status"] == "paid"
    assert completed["data"]["object"]["metadata"]["order_id"] == str(order.pk)

    feed_to_shop(deliveries)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_declined_card_reaches_the_shop_as_a_failed_attempt(
    shop_on_emulator, receiver, feed_to_shop
):
    order = OrderFactory()
    started = start_payment_intent(user=order.user, order_id=order.pk)
    shop_on_emulator.client().v1.payment_intents.update(
        started.attempt.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds"},
    )
    with pytest.raises(stripe.CardError, match="insufficient funds"):
        shop_on_emulator.client().v1.payment_intents.confirm(
            started.attempt.stripe_payment_intent_id, params={"return_url": RETURN_URL}
        )

    feed_to_shop(deliveries_until(receiver, "payment_intent.payment_failed"))
    attempt = order.payment_attempts.get()
    assert (attempt.status, attempt.failure_code) == ("failed", "insufficient_funds")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_a_staff_refund_goes_through_the_emulator_and_back(
    shop_on_emulator, receiver, feed_to_shop
):
    order = OrderFactory(total=3000, subtotal=3000)
    started = start_payment_intent(user=order.user, order_id=order.pk)
    shop_on_emulator.client().v1.payment_intents.confirm(
        started.attempt.stripe_payment_intent_id,
        params={"payment_method": "pm_card_visa", "return_url": RETURN_URL},
    )
    feed_to_shop(deliveries_until(receiver, "payment_intent.succeeded"))
    receiver.clear()

    refund = create_refund(
        order_id=order.pk,
        amount=1000,
        reason="damaged",
        staff_user=UserFactory(is_staff=True),
        request_uuid=uuid.uuid4(),
    )

    assert refund.stripe_refund_id.startswith("re_")
    feed_to_shop(deliveries_until(receiver, "charge.refunded"))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1000)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payment_method", "stripe_status"),
    [("pm_card_visa", "succeeded"), ("pm_usBankAccount_success", "processing")],
)
def test_cancel_after_stripe_took_the_payment_is_refused_and_the_payment_recorded(
    shop_on_emulator, receiver, feed_to_shop, payment_method, stripe_status
):
    """The emulator answers the cancel of a succeeded or processing PaymentIntent as Stripe
    does (400 payment_intent_unexpected_state); the shop asks what the state is."""
    order = OrderFactory(total=3000, subtotal=3000)
    started = start_payment_intent(user=order.user, order_id=order.pk)
    intent = shop_on_emulator.client().v1.payment_intents.confirm(
        started.attempt.stripe_payment_intent_id,
        params={"payment_method": payment_method, "return_url": RETURN_URL},
    )
    assert intent.status == stripe_status

    with pytest.raises(PaymentInProgress):
        cancel_order(user=order.user, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert shop_on_emulator.client().v1.payment_intents.retrieve(intent.id).status == stripe_status
    if stripe_status == "processing":
        return
    feed_to_shop(deliveries_until(receiver, "payment_intent.succeeded"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
