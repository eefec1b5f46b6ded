"""Stripe's test bank accounts and refund cards, which settle later, through the official
SDK on an emulator that settles after 0.2 s; and the one table's docs and `--help`."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

from devstack import Emulator, wait_until
from stripe_emulator import control
from stripe_emulator.cards import reference, table
from tests.stripe_emulator.helpers import intent

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"
BANK_ROWS = table.US_BANK_ACCOUNTS + table.SEPA_IBANS


@pytest.fixture(scope="module")
def bank():
    """An emulator whose bank debits and refunds settle by themselves, 0.2 s later."""
    server = Emulator("--async-delay-seconds", "0.2").start()
    yield server
    server.stop()


@pytest.fixture
def client(bank):
    return bank.client()


def _settled(client, pi_id, timeout=5):
    wait_until(
        lambda: client.v1.payment_intents.retrieve(pi_id).status != "processing",
        timeout=timeout,
        what="the bank debit to settle",
    )
    return client.v1.payment_intents.retrieve(pi_id)


def _bank_intent(client, pm, by):
    currency = "eur" if pm.kind == "sepa_debit" else "usd"
    params = {"payment_method_types": [pm.kind], "currency": currency}
    if by == "id":
        return intent(client, payment_method=pm.id, confirm=True, **params)
    details = (
        {"iban": pm.number}
        if pm.kind == "sepa_debit"
        else {"routing_number": "110000000", "account_number": pm.number}
    )
    data = {"type": pm.kind, pm.kind: details, "billing_details": {"name": "Jenny Rosen"}}
    return intent(client, payment_method_data=data, confirm=True, **params)


@pytest.mark.parametrize("by", ["id", "number"])
@pytest.mark.parametrize(
    "pm", [pytest.param(pm, id=pm.id) for pm in BANK_ROWS if not pm.delay_seconds]
)
def test_bank_debits_process_then_settle_as_documented(client, pm, by):
    pi = _bank_intent(client, pm, by)
    assert pi.status == "processing"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "pending"
    if pm.outcome == "async_pending":  # stays processing until the control API settles it
        time.sleep(0.6)
        assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
        return
    settled = _settled(client, pi.id)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    details = charge.payment_method_details
    assert (details.type, details[pm.kind].last4) == (pm.kind, pm.number[-4:])
    if pm.outcome == "async_success":
        assert (settled.status, charge.status) == ("succeeded", "succeeded")
        disputes = [d for d in client.v1.disputes.list().data if d.payment_intent == pi.id]
        assert [d.reason for d in disputes] == ([pm.dispute_reason] if pm.dispute_reason else [])
    else:
        assert settled.status == "requires_payment_method"
        assert settled.last_payment_error.code == "payment_intent_payment_attempt_failed"
        assert (charge.status, charge.failure_code) == ("failed", pm.failure_code)


@pytest.mark.parametrize("pm", [pytest.param(pm, id=pm.id) for pm in BANK_ROWS if pm.delay_seconds])
def test_delayed_sepa_ibans_settle_three_minutes_later(bank, client, pm):
    pi = _bank_intent(client, pm, "id")
    time.sleep(0.8)  # well past the usual delay
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"
    bank.control("POST", "/clock/advance", {"seconds": pm.delay_seconds})
    expected = "succeeded" if pm.outcome == "async_success" else "requires_payment_method"
    assert _settled(client, pi.id).status == expected


def test_unknown_bank_details_are_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.create(
            params={
                "type": "us_bank_account",
                "us_bank_account": {"routing_number": "110000000", "account_number": "12"},
            }
        )
    assert caught.value.param == "us_bank_account[account_number]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.create(
            params={"type": "sepa_debit", "sepa_debit": {"iban": "DE00123"}}
        )
    assert caught.value.param == "sepa_debit[iban]"


# --- refunds that settle later ------------------------------------------------------------------
def test_refund_fail_card_refund_succeeds_then_fails(client):
    pi = intent(client, payment_method="pm_card_refundFail", confirm=True)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    wait_until(
        lambda: client.v1.refunds.retrieve(refund.id).status == "failed",
        timeout=5,
        what="the refund to fail",
    )
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.failure_reason == "expired_or_canceled_card"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0
    for kind in ("refund.failed", "charge.refund.updated"):
        events = client.v1.events.list(params={"type": kind}).data
        assert any(e.data.object.id == refund.id for e in events), kind


def test_pending_refund_card_refund_is_pending_then_succeeds(client):
    pi = intent(client, payment_method="pm_card_pendingRefund", confirm=True)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    wait_until(
        lambda: client.v1.refunds.retrieve(refund.id).status == "succeeded",
        timeout=5,
        what="the refund to succeed",
    )


def test_an_ordinary_card_refund_stays_succeeded(client):
    pi = intent(client, payment_method="pm_card_visa", confirm=True)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    time.sleep(0.6)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"


# --- one table, three listings -------------------------------------------------------------------
def test_docs_list_the_table_as_it_is():
    text = DOCS.read_text()
    section = text[text.index(reference.START) : text.index(reference.END) + len(reference.END)]
    assert section == reference.markdown(), (
        "docs/emulator.md is out of date: python -m stripe_emulator.cards.reference "
        "docs/emulator.md"
    )


def test_help_and_the_control_api_list_every_id_token_and_number(bank):
    help_text = subprocess.run(
        [sys.executable, "-m", "stripe_emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    _, listed = bank.control("GET", "/test_cards")
    by_number = {(row["type"], row["number"]) for row in listed["data"]}
    for pm in table.PAYMENT_METHODS:
        for name in (*pm.ids, *pm.tokens, pm.number):
            assert name in help_text, name
            assert f"`{name}`" in DOCS.read_text(), name
        assert (pm.kind, pm.number) in by_number
    for method, path, _ in control._LISTED:  # and every control call
        assert f"{method:<6} /_emulator{path}" in help_text, path
    assert len(control._LISTED) >= 25
