"""Stripe's test clocks through the official SDK: the clock API, its errors and events, and
customers whose objects live in the clock's time and change when it is advanced."""

import time

import pytest
import stripe

from devstack import wait_until
from tests.stripe_emulator.helpers import (
    BANK_DELAY,
    RETURN_URL,
    emulator_with_slow_banks,
    session,
)

FROZEN = 1_893_456_000  # 2030-01-01T00:00:00Z
DAY = 24 * 60 * 60


@pytest.fixture(scope="module")
def emulator(receiver):
    """This module's emulator settles bank debits by itself, after BANK_DELAY."""
    server = emulator_with_slow_banks(receiver)
    yield server
    server.stop()


def delivered(receiver, *types):
    """Wait until every one of `types` was delivered; the delivered types, in order."""
    wait_until(
        lambda: set(types) <= {e["type"] for e in receiver.events()},
        timeout=10,
        what=", ".join(types),
    )
    return [e["type"] for e in receiver.events()]


def advance(client, clock, frozen_time):
    """Advance through the SDK, then wait for `ready` as Stripe asks."""
    answer = client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": frozen_time}
    )
    assert answer.status == "advancing"
    assert answer.status_details.advancing.target_frozen_time == frozen_time
    wait_until(
        lambda: client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready",
        timeout=5,
        what="the test clock to be ready",
    )
    return client.v1.test_helpers.test_clocks.retrieve(clock.id)


def clock_customer(client, name="Checkout"):
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN, "name": name})
    customer = client.v1.customers.create(
        params={"email": "clock@example.com", "test_clock": clock.id}
    )
    return clock, customer


def test_a_test_clock_is_created_read_listed_and_deleted_with_stripes_events(client, receiver):
    clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": FROZEN, "name": "Renewals"}
    )
    assert clock.id.startswith("clock_") and clock.object == "test_helpers.test_clock"
    assert (clock.frozen_time, clock.name, clock.status, clock.livemode) == (
        FROZEN,
        "Renewals",
        "ready",
        False,
    )
    assert clock.deletes_after == clock.created + 7 * DAY
    assert client.v1.test_helpers.test_clocks.retrieve(clock.id).name == "Renewals"
    assert [c.id for c in client.v1.test_helpers.test_clocks.list().data] == [clock.id]

    customer = client.v1.customers.create(params={"test_clock": clock.id})
    assert (
        client.v1.customers.retrieve(customer.id, params={"expand": ["test_clock"]})["test_clock"][
            "id"
        ]
        == clock.id
    )

    existing = client.v1.customers.create(params={"email": "later@example.com"})
    second = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": FROZEN, "customer": existing.id}
    )
    assert client.v1.customers.retrieve(existing.id).test_clock == second.id
    with pytest.raises(stripe.InvalidRequestError) as attached:
        client.v1.test_helpers.test_clocks.create(
            params={"frozen_time": FROZEN, "customer": existing.id}
        )
    assert (attached.value.http_status, attached.value.param) == (400, "customer")
    client.v1.test_helpers.test_clocks.delete(second.id)

    deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
    assert (deleted.id, deleted.deleted) == (clock.id, True)
    assert client.v1.test_helpers.test_clocks.list().data == []
    # Its customers go with it.
    assert customer.id not in [c.id for c in client.v1.customers.list().data]
    types = delivered(receiver, "test_helpers.test_clock.deleted")
    assert types.index("test_helpers.test_clock.created") < types.index("customer.deleted")
    assert types.index("customer.deleted") < types.index("test_helpers.test_clock.deleted")


def test_the_clock_api_refuses_what_stripe_refuses(client):
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    clocks = client.v1.test_helpers.test_clocks
    for frozen_time in (FROZEN - 1, FROZEN, FROZEN + 3 * 365 * DAY):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            clocks.advance(clock.id, params={"frozen_time": frozen_time})
        assert (refused.value.http_status, refused.value.param) == (400, "frozen_time")
    assert clocks.retrieve(clock.id).frozen_time == FROZEN  # nothing moved

    with pytest.raises(stripe.InvalidRequestError) as missing:
        clocks.create(params={"name": "no time"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "frozen_time")
    with pytest.raises(stripe.InvalidRequestError) as too_long:
        clocks.create(params={"frozen_time": FROZEN, "name": "x" * 301})
    assert too_long.value.param == "name"

    for call in (
        lambda: clocks.retrieve("clock_unknown"),
        lambda: clocks.advance("clock_unknown", params={"frozen_time": FROZEN + DAY}),
        lambda: clocks.delete("clock_unknown"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as unknown:
            call()
        assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")
        assert "No such test_clock: 'clock_unknown'" in unknown.value.user_message

    with pytest.raises(stripe.InvalidRequestError) as no_clock:
        client.v1.customers.create(params={"test_clock": "clock_unknown"})
    assert (no_clock.value.http_status, no_clock.value.param) == (404, "test_clock")

    for _ in range(3):
        client.v1.customers.create(params={"test_clock": clock.id})
    with pytest.raises(stripe.InvalidRequestError) as full:
        client.v1.customers.create(params={"test_clock": clock.id})
    assert (full.value.http_status, full.value.param) == (400, "test_clock")


def test_what_is_made_for_a_clocks_customer_takes_the_clocks_time(client):
    clock, customer = clock_customer(client)
    assert (customer.created, customer.test_clock) == (FROZEN, clock.id)
    pi = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    assert pi.created == FROZEN
    assert client.v1.charges.retrieve(pi.latest_charge).created == FROZEN
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    assert refund.created == FROZEN
    cs = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 900,
                        "product_data": {"name": "Mug"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://shop.example/done",
        }
    )
    assert (cs.created, cs.expires_at) == (FROZEN, FROZEN + DAY)
    # Someone else's objects keep the emulator's time.
    assert abs(client.v1.customers.create(params={}).created - time.time()) < 60


def test_advancing_a_clock_expires_its_sessions_and_authorizations_and_nothing_else(
    client, receiver
):
    clock, customer = clock_customer(client)
    held = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "customer": customer.id,
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    assert held.status == "requires_capture"
    charge = client.v1.charges.retrieve(held.latest_charge)
    assert charge.payment_method_details.card.capture_before == FROZEN + 7 * DAY
    cs = session(client, customer=customer.id, expires_at=FROZEN + 3600)
    elsewhere = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )

    ready = advance(client, clock, FROZEN + DAY)
    assert (ready.frozen_time, ready.status) == (FROZEN + DAY, "ready")
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "expired"
    assert client.v1.payment_intents.retrieve(held.id).status == "requires_capture"
    types = delivered(receiver, "test_helpers.test_clock.ready", "checkout.session.expired")
    assert (
        types.index("test_helpers.test_clock.advancing")
        < types.index("checkout.session.expired")
        < types.index("test_helpers.test_clock.ready")
    )

    advance(client, clock, FROZEN + 8 * DAY)
    expired = client.v1.payment_intents.retrieve(held.id)
    assert (expired.status, expired.cancellation_reason) == ("canceled", "automatic")
    assert expired.canceled_at == FROZEN + 7 * DAY  # when it fell due, in the clock's time
    released = client.v1.charges.retrieve(held.latest_charge)
    assert (released.captured, released.refunded, released.amount_refunded) == (False, True, 4200)
    types = delivered(receiver, "charge.expired", "payment_intent.canceled")
    assert types.index("charge.expired") < types.index("payment_intent.canceled")
    canceled = next(e for e in receiver.events() if e["type"] == "payment_intent.canceled")
    assert canceled["data"]["object"]["id"] == held.id
    # Another customer's authorization lives in the emulator's time: untouched.
    assert client.v1.payment_intents.retrieve(elsewhere.id).status == "requires_capture"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(held.id)


def test_a_bank_debit_and_its_refund_settle_when_the_clock_passes_the_banks_delay(
    emulator, client, receiver
):
    clock, customer = clock_customer(client)
    pi = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": "pm_async_success",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    assert pi.status == "processing"
    advance(client, clock, FROZEN + BANK_DELAY - 60)
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
    advance(client, clock, FROZEN + BANK_DELAY)
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"

    # The bank settling through the control API acts in the clock's time too.
    other = client.v1.payment_intents.create(
        params={
            "amount": 800,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": "pm_async_success",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    emulator.control("POST", f"/payment_intents/{other.id}/settle", {"outcome": "succeeded"})
    settled = client.v1.charges.retrieve(
        client.v1.payment_intents.retrieve(other.id).latest_charge,
        params={"expand": ["balance_transaction"]},
    )
    assert settled.balance_transaction.created == FROZEN + BANK_DELAY

    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert (refund.status, refund.created) == ("pending", FROZEN + BANK_DELAY)
    advance(client, clock, FROZEN + 2 * BANK_DELAY + 1)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    types = delivered(receiver, "payment_intent.succeeded", "refund.updated")
    assert types.index("payment_intent.succeeded") < types.index("refund.updated")
