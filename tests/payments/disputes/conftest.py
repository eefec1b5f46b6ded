"""Dispute responses against the Stripe emulator: the shop's real SDK client over HTTP,
Stripe's signed deliveries fed to the shop's own webhook view when a test says so."""

import json
import uuid

import pytest

from devstack import Emulator, wait_until
from orders.models import OrderStatus
from payments.checkout.services import start_payment_intent
from payments.gateway import client as stripe_client
from payments.models import Dispute
from tests.emulator_settings import point_shop_at
from tests.factories import OrderFactory, UserFactory

WEBHOOK_SECRET = "whsec_dispute_responses"


@pytest.fixture(scope="module")
def emulator(receiver):
    server = Emulator(webhook_urls=[receiver.url], webhook_secret=WEBHOOK_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_api(settings, fresh_emulator, emulator):
    """The shop pointed at the emulator; returns an SDK client to read Stripe back."""
    point_shop_at(settings, emulator, secret_key="sk_test_disputes", webhook_secret=WEBHOOK_SECRET)
    yield emulator.client()
    stripe_client.use_http_client(None)


class Deliveries:
    """Stripe's deliveries, fed to the shop's webhook view as they were received."""

    def __init__(self, receiver, anon, capture):
        self.receiver, self.anon, self.capture = receiver, anon, capture

    def wait_for(self, event_type: str, count: int = 1) -> list[dict]:
        def of_type():
            return [d for d in self.receiver.received if _type(d) == event_type]

        wait_until(lambda: len(of_type()) >= count, timeout=10, what=f"{count} x {event_type}")
        return of_type()

    def feed(self, deliveries: list[dict]) -> None:
        for delivery in deliveries:
            with self.capture(execute=True):
                response = self.anon.generic(
                    "POST",
                    "/api/v1/webhooks/stripe/",
                    delivery["body"],
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=delivery["headers"]["Stripe-Signature"],
                )
            assert response.status_code == 200, response.content

    def feed_until(self, event_type: str) -> None:
        self.wait_for(event_type)
        self.feed(list(self.receiver.received))
        self.receiver.clear()


def _type(delivery: dict) -> str:
    return json.loads(delivery["body"])["type"]


@pytest.fixture
def deliveries(receiver, anon, django_capture_on_commit_callbacks):
    return Deliveries(receiver, anon, django_capture_on_commit_callbacks)


@pytest.fixture
def open_dispute(db, stripe_api, emulator, deliveries):
    """`open_dispute(**control options)`: a paid order disputed at Stripe, the dispute's
    events fed to the shop: returns our Dispute row (the order is disputed)."""

    def open_(**options) -> Dispute:
        order = OrderFactory(total=4200, subtotal=4200, currency="eur")
        started = start_payment_intent(user=order.user, order_id=order.pk)
        intent_id = started.attempt.stripe_payment_intent_id
        stripe_api.v1.payment_intents.confirm(
            intent_id,
            params={"payment_method": "pm_card_visa", "return_url": "https://shop.example/paid"},
        )
        deliveries.feed_until("payment_intent.succeeded")
        status, opened = emulator.control("POST", "/disputes", {"payment": intent_id, **options})
        assert status == 200, opened
        last = "created" if options.get("inquiry") else "funds_withdrawn"
        deliveries.feed_until(f"charge.dispute.{last}")
        dispute = Dispute.objects.select_related("order").get(stripe_dispute_id=opened["id"])
        assert dispute.order.status == OrderStatus.DISPUTED
        return dispute

    return open_


@pytest.fixture
def finance(db):
    return UserFactory(is_staff=True, email=f"finance-{uuid.uuid4().hex[:6]}@example.com")
