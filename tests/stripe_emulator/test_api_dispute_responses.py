"""Answering a dispute at the emulator as at Stripe: evidence staged or submitted
(`POST /v1/disputes/{id}`), the dispute accepted (`/close`), and the events that follow."""

import time

import pytest
import stripe

from devstack import wait_until
from tests.stripe_emulator.helpers import paid_intent


def opened(emulator, client, **options) -> str:
    pi = paid_intent(client)
    status, dispute = emulator.control("POST", "/disputes", {"payment": pi.id, **options})
    assert status == 200, dispute
    return dispute["id"]


def delivered(receiver, event_type: str, count: int = 0) -> list[dict]:
    """The deliveries of `event_type` (waiting until there are `count`)."""

    def of_type():
        return [e for e in receiver.events() if e["type"] == event_type]

    wait_until(lambda: len(of_type()) >= count, timeout=10, what=f"{count} x {event_type}")
    return of_type()


def test_a_draft_is_staged_then_submitted_with_the_evidence_merged(emulator, client, receiver):
    dispute_id = opened(emulator, client)

    draft = client.v1.disputes.update(
        dispute_id,
        params={
            "evidence": {"product_description": "Blue mug, 350 ml", "customer_name": "Ada"},
            "submit": False,
        },
    )
    assert draft.status == "needs_response"
    assert (draft.evidence_details.has_evidence, draft.evidence_details.submission_count) == (
        True,
        0,
    )
    staged = client.v1.disputes.retrieve(dispute_id)
    assert staged.evidence.product_description == "Blue mug, 350 ml"
    assert staged.evidence.shipping_carrier is None  # every field is there, unset ones null

    submitted = client.v1.disputes.update(
        dispute_id,
        params={"evidence": {"shipping_tracking_number": "Z0123", "customer_name": ""}},
    )
    assert submitted.status == "under_review"
    assert submitted.evidence.product_description == "Blue mug, 350 ml"  # merged, kept
    assert submitted.evidence.shipping_tracking_number == "Z0123"
    assert submitted.evidence.customer_name is None  # an empty string unsets it
    details = submitted.evidence_details
    assert (details.has_evidence, details.submission_count, details.past_due) == (True, 1, False)

    updates = delivered(receiver, "charge.dispute.updated", 2)
    assert len(updates) == 2
    assert updates[0]["data"]["previous_attributes"]["evidence"]["product_description"] is None
    assert updates[1]["data"]["previous_attributes"]["status"] == "needs_response"
    assert updates[1]["data"]["object"]["evidence_details"]["submission_count"] == 1


def test_updating_only_metadata_submits_nothing(emulator, client):
    dispute_id = opened(emulator, client)
    updated = client.v1.disputes.update(dispute_id, params={"metadata": {"order_id": "7"}})
    assert (updated.status, updated.metadata["order_id"]) == ("needs_response", "7")
    assert updated.evidence_details.submission_count == 0


@pytest.mark.parametrize(
    ("evidence", "param"),
    [
        ({"favourite_colour": "blue"}, "evidence[favourite_colour]"),
        ({"customer_name": "x" * 5001}, "evidence[customer_name]"),
        ({"uncategorized_text": "x" * 20001}, "evidence[uncategorized_text]"),
        ({"receipt": "file_unknown"}, "evidence[receipt]"),
    ],
)
def test_evidence_stripe_refuses_changes_nothing(emulator, client, evidence, param):
    dispute_id = opened(emulator, client)
    with pytest.raises(stripe.StripeError) as caught:
        client.v1.disputes.update(dispute_id, params={"evidence": evidence})
    assert caught.value.http_status in (400, 404)
    assert caught.value.error.param == param
    if "favourite_colour" in evidence:
        assert caught.value.code == "parameter_unknown"
    unchanged = client.v1.disputes.retrieve(dispute_id)
    assert (unchanged.status, unchanged.evidence_details.has_evidence) == ("needs_response", False)


def test_evidence_over_150000_characters_in_all_is_refused(emulator, client):
    dispute_id = opened(emulator, client)
    long_fields = [
        "access_activity_log",
        "cancellation_rebuttal",
        "product_description",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "uncategorized_text",
        "duplicate_charge_explanation",
    ]
    staged = {name: "x" * 20000 for name in long_fields}  # 140,000: allowed
    client.v1.disputes.update(dispute_id, params={"evidence": staged, "submit": False})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.disputes.update(
            dispute_id, params={"evidence": {"cancellation_policy_disclosure": "y" * 10001}}
        )
    assert (caught.value.http_status, caught.value.error.param) == (400, "evidence")
    assert client.v1.disputes.retrieve(dispute_id).status == "needs_response"


def test_evidence_after_submission_or_closing_is_refused_metadata_is_not(emulator, client):
    dispute_id = opened(emulator, client)
    client.v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "Signed."}})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.disputes.update(dispute_id, params={"evidence": {"customer_name": "Ada"}})
    assert caught.value.http_status == 400
    assert caught.value.error.type == "invalid_request_error"
    with pytest.raises(stripe.InvalidRequestError):  # submitted: no longer accepted either
        client.v1.disputes.close(dispute_id)

    emulator.control("POST", f"/disputes/{dispute_id}/resolve", {"outcome": "lost"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.disputes.update(dispute_id, params={"submit": True})
    assert "closed" in caught.value.user_message
    tagged = client.v1.disputes.update(dispute_id, params={"metadata": {"note": "lost"}})
    assert (tagged.status, tagged.metadata["note"]) == ("lost", "lost")


def test_accepting_loses_the_dispute_with_one_closed_event(emulator, client, receiver):
    dispute_id = opened(emulator, client)
    closed = client.v1.disputes.close(dispute_id)
    assert (closed.status, closed.is_charge_refundable) == ("lost", False)
    assert len(closed.balance_transactions) == 1  # the withdrawal stays; nothing reinstated
    assert delivered(receiver, "charge.dispute.closed", 1)[0]["data"]["object"]["status"] == "lost"
    types = [e["type"] for e in receiver.events()]
    assert types[-3:] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.disputes.close(dispute_id)
    assert caught.value.http_status == 400


def test_a_submission_after_the_deadline_is_taken_and_marked_past_due(emulator, client):
    dispute_id = opened(emulator, client, evidence_due_by=int(time.time()) - 60)
    late = client.v1.disputes.update(dispute_id, params={"evidence": {"customer_name": "Ada"}})
    assert (late.status, late.evidence_details.past_due) == ("under_review", True)


def test_an_inquiry_moves_no_money_and_is_answered_like_a_dispute(emulator, client, receiver):
    first = opened(emulator, client, inquiry=True)
    assert client.v1.disputes.retrieve(first).status == "warning_needs_response"
    answered = client.v1.disputes.update(first, params={"evidence": {"customer_name": "Ada"}})
    assert answered.status == "warning_under_review"
    second = opened(emulator, client, inquiry=True)
    accepted = client.v1.disputes.close(second)
    assert (accepted.status, accepted.balance_transactions) == ("warning_closed", [])
    delivered(receiver, "charge.dispute.closed", 1)
    assert delivered(receiver, "charge.dispute.funds_withdrawn") == []


def test_the_same_idempotency_key_submits_once(emulator, client, receiver):
    dispute_id = opened(emulator, client)
    params = {"evidence": {"uncategorized_text": "Delivered, signed for."}}
    options = {"idempotency_key": "dispute-form-1"}
    first = client.v1.disputes.update(dispute_id, params=params, options=options)
    again = client.v1.disputes.update(dispute_id, params=params, options=options)
    assert first.status == again.status == "under_review"
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert client.v1.disputes.retrieve(dispute_id).evidence_details.submission_count == 1
    delivered(receiver, "charge.dispute.updated", 1)
    time.sleep(0.3)  # nothing more arrives
    assert len(delivered(receiver, "charge.dispute.updated")) == 1


def test_a_submitted_dispute_is_decided_later_by_the_bank(emulator, client):
    dispute_id = opened(emulator, client)
    client.v1.disputes.update(dispute_id, params={"evidence": {"uncategorized_text": "Signed."}})
    status, won = emulator.control("POST", f"/disputes/{dispute_id}/resolve", {"outcome": "won"})
    assert (status, won["status"]) == (200, "won")
    assert len(won["balance_transactions"]) == 2  # withdrawn, then reinstated
