"""The emulator's refunds and disputes."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from tests.stripe_emulator.helpers import event_types, intent, paid_intent


# --- refunds -----------------------------------------------------------------------------------
def test_partial_refunds_then_full_then_refused(client, receiver):
    pi = paid_intent(client)
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 2000, "metadata": {"refund_uuid": "u1"}}
    )
    assert (first.status, first.amount, first.charge) == ("succeeded", 2000, pi.latest_charge)
    assert first.metadata["refund_uuid"] == "u1"
    second = client.v1.refunds.create(params={"charge": pi.latest_charge, "amount": 1000})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2001})
    assert caught.value.code == "amount_too_large"

    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == 2000
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert caught.value.code == "charge_already_refunded"

    charge = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert {r.id for r in charge.refunds.data} == {first.id, second.id, rest.id}
    assert client.v1.refunds.retrieve(first.id).amount == 2000
    assert len(client.v1.refunds.list(params={"payment_intent": pi.id}).data) == 3

    types = event_types(receiver, 9)
    assert types.count("refund.created") == 3
    assert types.count("charge.refunded") == 3


def test_concurrent_refunds_never_exceed_the_charge(emulator):
    client = emulator.client()
    pi = paid_intent(client, amount=5000)

    def refund(_):
        try:
            return (
                emulator.client()
                .v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
                .amount
            )
        except stripe.InvalidRequestError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(refund, range(8)))
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1000] * 5
    assert {o for o in outcomes if isinstance(o, str)} == {"charge_already_refunded"}
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 5000


def test_a_failed_refund_gives_the_money_back_to_refund(emulator, client, receiver):
    pi = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    status, body = emulator.control("POST", f"/refunds/{refund.id}/fail")
    assert (status, body["status"]) == (200, "failed")
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0
    assert event_types(receiver, 8)[-3:] == [
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    ]


def test_a_bank_debit_refund_is_pending_until_the_bank_pays_it(emulator, client, receiver):
    pi = intent(client, amount=3000, payment_method="pm_usBankAccount_success", confirm=True)
    emulator.control("POST", f"/payment_intents/{pi.id}/settle", {"outcome": "succeeded"})
    first = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    second = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000})
    assert (first.status, second.status) == ("pending", "pending")
    with pytest.raises(stripe.InvalidRequestError) as caught:  # pending ones count
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert caught.value.code == "charge_already_refunded"

    status, paid = emulator.control("POST", f"/refunds/{first.id}/settle", {"outcome": "succeeded"})
    assert (status, paid["status"]) == (200, "succeeded")
    emulator.control("POST", f"/refunds/{second.id}/settle", {"outcome": "failed"})
    assert client.v1.refunds.retrieve(second.id).status == "failed"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 1000

    # created, pending, processing, charge.succeeded, succeeded, 2 x (refund.created,
    # charge.refunded), then the two settlements (2 and 3 events).
    types = event_types(receiver, 14)
    assert types[9:] == [
        "refund.updated",
        "charge.refund.updated",
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    ]


def test_refund_of_an_unpaid_intent_is_refused(client):
    pi = intent(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert caught.value.code == "charge_not_refundable"


# --- disputes ------------------------------------------------------------------------------------
def test_dispute_evidence_then_won(emulator, client, receiver):
    pi = paid_intent(client)
    status, dispute = emulator.control("POST", "/disputes", {"payment": pi.id})
    assert status == 200
    updated = client.v1.disputes.update(
        dispute["id"], params={"evidence": {"uncategorized_text": "Delivered, signed for."}}
    )
    assert updated.status == "under_review"
    assert updated.evidence.uncategorized_text == "Delivered, signed for."

    emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "won"})
    assert client.v1.disputes.retrieve(dispute["id"]).status == "won"
    assert event_types(receiver, 8)[-5:] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_dispute_accepted_is_lost_and_refunds_are_refused(emulator, client, receiver):
    pi = paid_intent(client)
    _, dispute = emulator.control("POST", "/disputes", {"payment": pi.latest_charge})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert caught.value.code == "charge_disputed"

    closed = client.v1.disputes.close(dispute["id"])
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute["id"])
    assert event_types(receiver, 6)[-1] == "charge.dispute.closed"
    assert [d.id for d in client.v1.disputes.list().data] == [dispute["id"]]


def test_dispute_lost_through_the_control_api(emulator, client):
    pi = paid_intent(client)
    _, dispute = emulator.control("POST", "/disputes", {"payment": pi.id})
    _, lost = emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "lost"})
    assert lost["status"] == "lost"
