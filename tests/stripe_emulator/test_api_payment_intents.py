"""The emulator's PaymentIntents: test cards, 3-D Secure, delayed methods, capture, and
Stripe.js's publishable-key calls."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from devstack import Emulator, wait_until
from tests.stripe_emulator.helpers import (
    CARD,
    RETURN_URL,
    event_types,
    http,
    intent,
)


# --- PaymentIntents and test cards -----------------------------------------------------------
def test_payment_intent_succeeds_with_pm_card_visa(client, receiver):
    pi = intent(
        client,
        metadata={"order_id": "12", "attempt": "1"},
        automatic_payment_methods={"enabled": True},
        receipt_email="shopper@example.com",
    )
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")

    confirmed = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": CARD, "return_url": RETURN_URL}
    )
    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 1999
    assert isinstance(confirmed.latest_charge, str)  # an id at this API version

    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, True)
    assert charge.payment_intent == pi.id
    assert "refunds" not in charge  # listed only when expanded at this API version
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == charge.id

    assert event_types(receiver, 3) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    succeeded = receiver.events()[2]["data"]["object"]
    assert succeeded["metadata"] == {"order_id": "12", "attempt": "1"}
    assert succeeded["latest_charge"] == charge.id


@pytest.mark.parametrize(
    ("payment_method", "decline_code", "message"),
    [
        ("pm_card_visa_chargeDeclined", "generic_decline", "Your card was declined."),
        (
            "pm_card_visa_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
    ],
)
def test_declining_cards(client, receiver, payment_method, decline_code, message):
    pi = intent(client)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(
            pi.id, params={"payment_method": payment_method, "return_url": RETURN_URL}
        )
    error = caught.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code, error.user_message) == (
        "card_declined",
        decline_code,
        message,
    )
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.decline_code == decline_code
    assert event_types(receiver, 3)[1:] == ["charge.failed", "payment_intent.payment_failed"]

    retried = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": CARD, "return_url": RETURN_URL}
    )
    assert retried.status == "succeeded"


def test_three_d_secure_then_authenticated(emulator, client, receiver):
    # Cards only: Stripe lets a server confirm without a return_url when nothing redirects.
    pi = intent(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        payment_method_types=["card"],
    )
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"

    page = http("GET", pi.next_action.redirect_to_url.url)
    assert page[0] == 200 and "Complete authentication" in page[2]
    status, _headers, _ = http("POST", pi.next_action.redirect_to_url.url, b"result=succeeded", {})
    assert status == 200  # no return_url and no Checkout: a result page
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert "payment_intent.requires_action" in event_types(receiver, 4)


def test_three_d_secure_failed_through_the_control_api(emulator, client, receiver):
    pi = intent(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example/return",
    )
    status, body = emulator.control(
        "POST", f"/payment_intents/{pi.id}/authenticate", {"outcome": "failed"}
    )
    assert status == 200
    assert body["status"] == "requires_payment_method"
    assert body["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert event_types(receiver, 3)[-1] == "payment_intent.payment_failed"


def test_three_d_secure_page_returns_to_the_return_url(client):
    pi = intent(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example/return?order=1",
    )
    status, headers, _ = http("POST", pi.next_action.redirect_to_url.url, b"result=succeeded")
    assert status == 303
    assert headers["Location"].startswith("https://shop.example/return?order=1&payment_intent=")
    assert "redirect_status=succeeded" in headers["Location"]


@pytest.mark.parametrize(
    ("payment_method", "outcome", "final_status", "final_event"),
    [
        ("pm_usBankAccount_success", "succeeded", "succeeded", "payment_intent.succeeded"),
        (
            "pm_usBankAccount_debitNotAuthorized",
            "failed",
            "requires_payment_method",
            "payment_intent.payment_failed",
        ),
    ],
)
def test_async_payment_settles_later(
    emulator, client, receiver, payment_method, outcome, final_status, final_event
):
    pi = intent(client, payment_method=payment_method, confirm=True)
    assert pi.status == "processing"
    assert event_types(receiver, 3)[-1] == "payment_intent.processing"

    status, _body = emulator.control("POST", f"/payment_intents/{pi.id}/settle", {})
    assert status == 400  # the outcome is never guessed
    emulator.control("POST", f"/payment_intents/{pi.id}/settle", {"outcome": outcome})
    assert client.v1.payment_intents.retrieve(pi.id).status == final_status
    assert event_types(receiver, 5)[-1] == final_event


def test_async_payment_settles_by_itself_after_the_delay(receiver):
    server = Emulator("--async-delay-seconds", "0.2").start()
    try:
        client = server.client()
        pi = intent(client, payment_method="pm_usBankAccount_success", confirm=True)
        assert pi.status == "processing"
        wait_until(
            lambda: client.v1.payment_intents.retrieve(pi.id).status == "succeeded",
            timeout=5,
            what="the async payment to settle",
        )
    finally:
        server.stop()


def test_latency_option_delays_api_answers_but_not_the_control_api():
    server = Emulator("--latency-ms", "300").start()
    try:
        client = server.client()
        started = time.monotonic()
        customer = client.v1.customers.create(params={"email": "slow@example.com"})
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        status, _ = server.control("GET", "/webhook_endpoints")
        assert status == 200 and time.monotonic() - started < 0.3
        # Requests wait side by side, not one after another.
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda _: client.v1.customers.retrieve(customer.id), range(4)))
        assert [c.id for c in found] == [customer.id] * 4
        assert time.monotonic() - started < 1.2

        assert server.control("POST", "/latency", {"ms": "fast"})[0] == 400
        assert server.control("POST", "/latency", {"ms": 0}) == (200, {"latency_ms": 0.0})
        started = time.monotonic()
        client.v1.customers.retrieve(customer.id)
        assert time.monotonic() - started < 0.3
        server.control("POST", "/reset")  # back to the option's 300 ms
        started = time.monotonic()
        client.v1.customers.create(params={"email": "slow@example.com"})
        assert time.monotonic() - started >= 0.3
    finally:
        server.stop()


def test_create_dispute_card_succeeds_then_a_dispute_opens(client, receiver):
    pi = intent(client, payment_method="pm_card_createDispute", confirm=True)
    assert pi.status == "succeeded"
    disputes = client.v1.disputes.list(params={"payment_intent": pi.id}).data
    assert len(disputes) == 1
    assert disputes[0].status == "needs_response"
    assert disputes[0].charge == pi.latest_charge
    assert event_types(receiver, 5)[-2:] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]


def test_update_and_cancel(client, receiver):
    pi = intent(client, metadata={"order_id": "3"})
    updated = client.v1.payment_intents.update(
        pi.id, params={"amount": 2500, "metadata": {"attempt": "2"}}
    )
    assert updated.amount == 2500
    assert updated.metadata.to_dict() == {"order_id": "3", "attempt": "2"}

    canceled = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert event_types(receiver, 2)[-1] == "payment_intent.canceled"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"


def test_manual_capture(client, receiver):
    pi = intent(client, capture_method="manual", payment_method=CARD, confirm=True)
    assert (pi.status, pi.amount_capturable) == ("requires_capture", 1999)
    assert event_types(receiver, 3)[-1] == "payment_intent.amount_capturable_updated"

    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1500})
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    assert client.v1.charges.retrieve(pi.latest_charge).amount_captured == 1500
    assert event_types(receiver, 5)[-1] == "payment_intent.succeeded"

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1501})


def test_listing_pages_newest_first(client):
    ids = [intent(client, amount=100 + n).id for n in range(3)]
    first = client.v1.payment_intents.list(params={"limit": 2})
    assert [p.id for p in first.data] == ids[::-1][:2]
    assert first.has_more
    rest = client.v1.payment_intents.list(params={"limit": 2, "starting_after": first.data[-1].id})
    buyer = client.v1.customers.create(params={"email": "buyer@example.com"})
    intent(client, customer=buyer.id)
    expanded = client.v1.payment_intents.list(params={"limit": 1, "expand": ["data.customer"]})
    assert expanded.data[0].customer.email == "buyer@example.com"
    assert [p.id for p in rest.data] == [ids[0]]
    assert not rest.has_more


# --- publishable key + client_secret (what Stripe.js does) -----------------------------------
def test_client_side_confirm_with_the_publishable_key(emulator, client):
    pi = intent(client)
    url = f"{emulator.url}/v1/payment_intents/{pi.id}/confirm"
    form = f"key=pk_test_browser&client_secret={pi.client_secret}&payment_method={CARD}"
    status, headers, body = http(
        "POST", url, form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200, body
    assert json.loads(body)["status"] == "succeeded"
    assert headers["Access-Control-Allow-Origin"] == "*"

    preflight = http("OPTIONS", url, headers={"Origin": "http://localhost:8000"})
    assert preflight[0] == 204
    assert "Authorization" in preflight[1]["Access-Control-Allow-Headers"]


def test_the_publishable_key_needs_the_right_client_secret_and_endpoint(emulator, client):
    pi = intent(client)
    status, _, _ = http(
        "GET", f"{emulator.url}/v1/payment_intents/{pi.id}?key=pk_test_x&client_secret=wrong"
    )
    assert status == 404
    with pytest.raises(stripe.PermissionError):
        emulator.client("pk_test_browser").v1.payment_intents.list()
