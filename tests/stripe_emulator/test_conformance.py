"""The conformance checker finds each kind of difference from Stripe's objects, and the
suite's hook sees the API answers a test gets."""

import json

from tests.stripe_emulator import helpers
from tests.stripe_emulator.conformance import differences


def test_an_emulator_payment_intent_conforms_and_the_hook_saw_it(client):
    helpers.paid_intent(client)
    where, raw = helpers.SEEN[-1]
    assert where.startswith("200 /v1/payment_intents")
    assert json.loads(raw)["object"] == "payment_intent"
    assert differences(json.loads(raw)) == []


def _refund(**changes):
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 100,
        "balance_transaction": "txn_1",
        "charge": "ch_1",
        "created": 1,
        "currency": "usd",
        "customer": None,
        "customer_account": None,
        "destination_details": {"type": "card", "card": {"type": "refund"}},
        "metadata": {},
        "payment_intent": "pi_1",
        "payment_method": "pm_1",
        "reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    refund.update(changes)
    return refund


def test_a_complete_refund_has_no_differences():
    assert differences(_refund()) == []


def test_each_kind_of_difference_is_named_with_its_path():
    body = _refund(amount="100", failure_reason=None, extra=1, reason="bored", created=None)
    del body["currency"]
    del body["customer"]
    body["destination_details"] = {"type": "us_bank_account", "us_bank_account": {}}
    found = differences(body)
    assert "refund.amount: expected int, got '100'" in found
    assert "refund.failure_reason: null, but Stripe leaves it out when it does not apply" in found
    assert "refund.extra: not a field of stripe._refund.Refund" in found
    assert any(d.startswith("refund.reason: 'bored' is not one of") for d in found)
    assert "refund.created: null where the SDK does not allow it" in found
    assert "refund.currency: missing (the SDK declares it, not Optional)" in found
    assert "refund.customer: missing (Stripe always sends it, null when unset)" in found
    assert any(
        d.startswith("refund.destination_details.us_bank_account: not a field") for d in found
    )


def test_expanded_objects_lists_and_events_are_walked():
    expanded = _refund(charge={"id": "ch_1", "object": "charge"})
    assert "refund.charge.amount: missing (the SDK declares it, not Optional)" in differences(
        expanded
    )
    listed = {
        "object": "list",
        "data": [_refund(amount=True)],
        "has_more": False,
        "url": "/v1/refunds",
    }
    assert differences(listed) == ["list.data[0].amount: expected int, got True"]
    event = {
        "id": "evt_1",
        "object": "event",
        "api_version": "2026-08-26.dahlia",
        "created": 1,
        "data": {"object": _refund(status=5), "previous_attributes": {"status": "pending"}},
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": "refund.updated",
    }
    assert differences(event) == ["event.data.object.status: 5 matches none of [<class 'str'>]"]


def test_every_expandable_field_the_emulator_fills_expands_to_a_whole_object(emulator, client):
    """As at Stripe, each id the SDK types as expandable can be expanded; the bodies are
    checked by the suite's hook like every other answer."""
    pi = helpers.paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100})
    status, answer = emulator.control("POST", "/disputes", {"payment": pi.id})
    assert status == 200
    expanded = {
        ("payment_intents", pi.id): ["customer", "latest_charge", "payment_method"],
        ("charges", pi.latest_charge): ["balance_transaction", "customer", "payment_intent"],
        ("refunds", refund.id): [
            "balance_transaction",
            "charge",
            "payment_intent",
            "payment_method",
        ],
        ("disputes", answer["id"]): ["charge", "payment_intent"],
    }
    for (resource, object_id), fields in expanded.items():
        query = "&".join(f"expand[]={field}" for field in fields)
        code, _, raw = helpers.http(
            "GET",
            f"{emulator.url}/v1/{resource}/{object_id}?{query}",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
        assert code == 200, raw
        body = json.loads(raw)
        assert [f for f in fields if isinstance(body[f], str)] == [], resource
    assert json.loads(raw)["charge"]["object"] == "charge"
