"""The emulator's API: customers, parameter validation and idempotency keys, as Stripe
checks them."""

import json

import pytest
import stripe

from tests.stripe_emulator.helpers import (
    RETURN_URL,
    http,
    intent,
)


# --- customers ------------------------------------------------------------------------------
def test_customer_lifecycle(client):
    customer = client.v1.customers.create(
        params={"email": "a@example.com", "name": "Ada", "metadata": {"order_id": "1"}}
    )
    assert customer.id.startswith("cus_")
    assert customer.metadata["order_id"] == "1"

    updated = client.v1.customers.update(
        customer.id, params={"name": "Ada L.", "metadata": {"order_id": "", "tier": "gold"}}
    )
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert client.v1.customers.retrieve(customer.id).email == "a@example.com"

    client.v1.customers.create(params={"email": "b@example.com"})
    listed = client.v1.customers.list(params={"email": "a@example.com"})
    assert [c.id for c in listed.data] == [customer.id]
    assert len(client.v1.customers.list(params={"limit": 1}).data) == 1


def test_a_missing_object_is_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve("cus_nope")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


# --- parameter validation ----------------------------------------------------------------------
def test_an_unknown_parameter_is_refused_with_its_name(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, unit_price=5)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "unit_price"


def test_an_unknown_nested_parameter_is_refused_with_its_path(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, automatic_payment_methods={"enabled": True, "colour": "red"})
    assert caught.value.param == "automatic_payment_methods[colour]"


def test_a_mistyped_amount_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": "12.50", "currency": "usd"})
    assert caught.value.code == "parameter_invalid_integer"
    assert caught.value.param == "amount"


def test_a_value_outside_the_enum_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, capture_method="later")
    assert caught.value.code == "parameter_invalid"
    assert caught.value.param == "capture_method"


def test_a_missing_required_parameter_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 100})
    assert caught.value.code == "parameter_missing"
    assert caught.value.param == "currency"


def test_nested_metadata_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, metadata={"order": {"id": "1"}})
    assert caught.value.param == "metadata[order]"


def test_metadata_limits_are_stripes(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, metadata={"k" * 41: "v"})
    assert caught.value.param == f"metadata[{'k' * 41}]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, metadata={"note": "v" * 501})
    assert caught.value.param == "metadata[note]"


def test_amounts_and_currencies_stripe_would_refuse(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 49, "currency": "usd"})
    assert caught.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "usd"})
    assert caught.value.code == "amount_too_large"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 500, "currency": "xyz"})
    assert caught.value.param == "currency"
    assert client.v1.payment_intents.create(params={"amount": 50, "currency": "jpy"}).amount == 50


def test_webhook_endpoint_events_are_checked_against_stripes_list(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(
            params={"url": "http://127.0.0.1:1/x", "enabled_events": ["order.paid"]}
        )
    assert caught.value.param == "enabled_events[0]"


# --- idempotency ----------------------------------------------------------------------------
def test_same_key_and_parameters_replay_the_stored_answer(emulator, client):
    first = intent(client, metadata={"order_id": "1"})
    body = "amount=1999&currency=usd&metadata[order_id]=1"
    headers = {
        "Authorization": f"Bearer {emulator.api_key}",
        "Idempotency-Key": "order-1-attempt-1",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    url = f"{emulator.url}/v1/payment_intents"
    status, first_headers, first_body = http("POST", url, body.encode(), headers)
    status2, replay_headers, replay_body = http("POST", url, body.encode(), headers)
    assert status == status2 == 200
    assert "Idempotent-Replayed" not in first_headers
    assert replay_headers["Idempotent-Replayed"] == "true"
    assert json.loads(replay_body)["id"] == json.loads(first_body)["id"] != first.id
    assert len(client.v1.payment_intents.list().data) == 2


def test_same_key_with_other_parameters_is_an_idempotency_error(client):
    options = {"idempotency_key": "order-2-attempt-1"}
    client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.payment_intents.create(params={"amount": 999, "currency": "usd"}, options=options)
    assert caught.value.error.type == "idempotency_error"


def test_keys_are_scoped_per_api_key(emulator, client):
    """Another key is another account here; on another endpoint a key is refused
    (test_api_strictness.py)."""
    options = {"idempotency_key": "shared-key"}
    mine = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    theirs = emulator.client("sk_test_other_account").v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    assert mine.id != theirs.id


def test_a_request_refused_by_validation_stores_nothing_for_its_key(client):
    options = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={"amount": "x", "currency": "usd"}, options=options)
    fixed = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    assert fixed.amount == 100


def test_a_declined_payment_is_replayed_as_declined(client):
    pi = intent(client)
    options = {"idempotency_key": "confirm-once"}
    params = {"payment_method": "pm_card_visa_chargeDeclined", "return_url": RETURN_URL}
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(pi.id, params=params, options=options)
    assert len(client.v1.charges.list(params={"payment_intent": pi.id}).data) == 1
