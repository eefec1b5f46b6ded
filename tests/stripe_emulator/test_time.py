"""What time causes, through the emulator's own clock (`POST /_emulator/clock/advance`):
sessions and card authorizations expire, bank debits and their refunds settle, at once
when the clock jumps past them, with the events Stripe sends."""

import time

import pytest

from devstack import wait_until
from tests.stripe_emulator.helpers import (
    BANK_DELAY,
    emulator_with_slow_banks,
    intent,
    session,
)

DAY = 24 * 60 * 60


@pytest.fixture(scope="module")
def emulator(receiver):
    """This module's emulator settles bank debits by itself, after BANK_DELAY."""
    server = emulator_with_slow_banks(receiver)
    yield server
    server.stop()


def let_pass(emulator, seconds):
    status, body = emulator.control("POST", "/clock/advance", {"seconds": seconds})
    assert status == 200, body


def delivered(receiver, *types):
    wait_until(
        lambda: set(types) <= {e["type"] for e in receiver.events()},
        timeout=10,
        what=", ".join(types),
    )
    return [e["type"] for e in receiver.events()]


def test_a_session_expires_as_soon_as_the_clock_passes_expires_at(emulator, client, receiver):
    cs = session(client, expires_at=int(time.time()) + 3600)
    let_pass(emulator, 3500)
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"
    let_pass(emulator, 120)
    expired = client.v1.checkout.sessions.retrieve(cs.id)  # no waiting: the jump acted
    assert (expired.status, expired.url) == ("expired", None)
    delivered(receiver, "checkout.session.expired")
    event = next(e for e in receiver.events() if e["type"] == "checkout.session.expired")
    assert event["data"]["object"]["id"] == cs.id


def test_an_uncaptured_card_authorization_expires_after_seven_days(emulator, client, receiver):
    held = intent(client, capture_method="manual", payment_method="pm_card_visa", confirm=True)
    charge = client.v1.charges.retrieve(held.latest_charge)
    assert charge.payment_method_details.card.capture_before == held.created + 7 * DAY
    captured = intent(client, capture_method="manual", payment_method="pm_card_visa", confirm=True)
    client.v1.payment_intents.capture(captured.id)

    let_pass(emulator, 7 * DAY - 3600)
    assert client.v1.payment_intents.retrieve(held.id).status == "requires_capture"
    let_pass(emulator, 3600)
    expired = client.v1.payment_intents.retrieve(held.id)
    assert (expired.status, expired.cancellation_reason) == ("canceled", "automatic")
    assert expired.canceled_at == charge.payment_method_details.card.capture_before
    released = client.v1.charges.retrieve(held.latest_charge)
    assert (released.captured, released.refunded) == (False, True)
    assert client.v1.payment_intents.retrieve(captured.id).status == "succeeded"  # captured
    types = delivered(receiver, "charge.expired", "payment_intent.canceled")
    assert types.count("charge.expired") == 1
    assert types.index("charge.expired") < types.index("payment_intent.canceled")


def test_a_bank_debit_and_its_refund_settle_when_the_delay_has_passed(emulator, client, receiver):
    pi = intent(client, amount=2500, payment_method="pm_async_success", confirm=True)
    failing = intent(client, amount=700, payment_method="pm_async_failure", confirm=True)
    let_pass(emulator, BANK_DELAY - 60)
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
    let_pass(emulator, 60)
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert client.v1.payment_intents.retrieve(failing.id).status == "requires_payment_method"

    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    let_pass(emulator, BANK_DELAY)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    types = delivered(
        receiver, "payment_intent.succeeded", "payment_intent.payment_failed", "refund.updated"
    )
    assert types.index("refund.created") < types.index("refund.updated")


def test_three_days_pass_in_under_a_second(emulator, client):
    cs = session(client, expires_at=int(time.time()) + 2 * 3600)
    pi = intent(client, payment_method="pm_async_success", confirm=True)
    started = time.monotonic()
    let_pass(emulator, 3 * DAY)
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "expired"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert time.monotonic() - started < 1.0
    assert emulator.control("GET", "/clock")[1]["offset_seconds"] == 3 * DAY
