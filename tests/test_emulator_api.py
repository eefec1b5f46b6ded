"""The Stripe emulator's API, driven through the real `stripe.StripeClient` as the shop does.

One emulator process per module (reset before each test), a webhook receiver in this
process to see the events it sends.
"""

import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import stripe

from devstack import Emulator, wait_until

CARD = "pm_card_visa"


@pytest.fixture(scope="module")
def emulator(receiver):
    server = Emulator(webhook_urls=[receiver.url], webhook_secret="whsec_api_tests").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(fresh_emulator):
    """Each test starts from an empty emulator (tests/conftest.py)."""


@pytest.fixture
def client(emulator):
    return emulator.client()


def event_types(receiver, count: int) -> list[str]:
    """The types of the first `count` events delivered (waiting for them)."""
    wait_until(lambda: len(receiver.events()) >= count, timeout=10, what=f"{count} deliveries")
    return [e["type"] for e in receiver.events()[:count]]


def http(method, url, data=None, headers=None):
    """Plain HTTP without following redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def intent(client, amount=1999, **params):
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd", **params})


# --- authentication ------------------------------------------------------------------------
def test_a_request_without_a_key_is_refused_like_stripe(emulator):
    status, _, body = http("GET", f"{emulator.url}/v1/customers")
    assert status == 401
    assert set(json.loads(body)["error"]) >= {"type", "message"}


@pytest.mark.parametrize("key", ["sk_live_abcdef", "rk_live_abcdef", "nonsense"])
def test_live_and_unknown_keys_are_refused(emulator, key):
    with pytest.raises(stripe.AuthenticationError):
        emulator.client(key).v1.customers.list()


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses a TCP socket listens on for `port`, from the kernel's table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_it_listens_on_loopback_only(emulator):
    assert listening_addresses(emulator.port) == {"127.0.0.1"}
    # And from another of this machine's addresses, when it has one, nothing answers.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # picks the outward interface; sends nothing
            address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    if not address.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((address, emulator.port), timeout=1).close()


# --- the control API cannot be reached from a web page --------------------------------------
def control_post(emulator, path, headers):
    return http("POST", f"{emulator.url}/_emulator{path}", b"{}", headers)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused_everywhere(emulator, host):
    # DNS rebinding: a page on evil.example resolves its name to 127.0.0.1.
    json_body = {"Content-Type": "application/json", "Host": host}
    assert control_post(emulator, "/reset", json_body)[0] == 400
    assert (
        http("GET", f"{emulator.url}/_emulator/webhook_endpoints", None, {"Host": host})[0] == 400
    )
    assert http("GET", f"{emulator.url}/v1/customers", None, {"Host": host})[0] == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST:1234"])
def test_loopback_host_names_are_served(emulator, host):
    status, _, _ = control_post(
        emulator, "/reset", {"Content-Type": "application/json", "Host": host}
    )
    assert status == 200


def test_a_cross_site_origin_is_refused(emulator, client):
    customer = client.v1.customers.create(params={"email": "kept@example.com"})
    status, _, _ = control_post(
        emulator,
        "/reset",
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
    )
    assert status == 403
    assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"  # not reset
    own = control_post(
        emulator, "/reset", {"Content-Type": "application/json", "Origin": emulator.url}
    )
    assert own[0] == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_control_post_a_browser_form_could_send_is_refused(emulator, client, content_type):
    customer = client.v1.customers.create(params={"email": "kept@example.com"})
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, _ = control_post(emulator, "/reset", headers)
    assert status == 415
    assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"


def test_a_control_post_with_the_custom_header_needs_no_json_type(emulator):
    status, _, _ = http("POST", f"{emulator.url}/_emulator/reset", b"", {"X-Emulator-Control": "1"})
    assert status == 200


def test_the_control_api_grants_no_cross_origin_preflight(emulator):
    _, headers, _ = http(
        "OPTIONS",
        f"{emulator.url}/_emulator/reset",
        None,
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in headers
    # Stripe's own API stays open to pages, as Stripe.js needs.
    _, api_headers, _ = http(
        "OPTIONS",
        f"{emulator.url}/v1/payment_intents",
        None,
        {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert api_headers.get("Access-Control-Allow-Origin") == "*"


def test_expand_with_empty_brackets_as_stripe_js_sends_it(emulator, client):
    pi = intent(client, payment_method=CARD, confirm=True)
    status, _, body = http(
        "GET",
        f"{emulator.url}/v1/payment_intents/{pi.id}?expand[]=latest_charge",
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    assert status == 200
    assert json.loads(body)["latest_charge"]["object"] == "charge"


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


def test_keys_are_scoped_per_api_key_and_path(emulator, client):
    options = {"idempotency_key": "shared-key"}
    mine = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    theirs = emulator.client("sk_test_other_account").v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    customer = client.v1.customers.create(params={"email": "x@example.com"}, options=options)
    assert mine.id != theirs.id
    assert customer.object == "customer"


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
    params = {"payment_method": "pm_card_visa_chargeDeclined"}
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(pi.id, params=params, options=options)
    assert len(client.v1.charges.list(params={"payment_intent": pi.id}).data) == 1


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

    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": CARD})
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
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": payment_method})
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

    retried = client.v1.payment_intents.confirm(pi.id, params={"payment_method": CARD})
    assert retried.status == "succeeded"


def test_three_d_secure_then_authenticated(emulator, client, receiver):
    pi = intent(client, payment_method="pm_card_threeDSecure2Required", confirm=True)
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
        ("pm_async_success", "succeeded", "succeeded", "payment_intent.succeeded"),
        ("pm_async_failure", "failed", "requires_payment_method", "payment_intent.payment_failed"),
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
        pi = intent(client, payment_method="pm_async_success", confirm=True)
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


# --- Checkout ----------------------------------------------------------------------------------
def session(client, **params):
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1250,
                        "product_data": {"name": "<script>alert(1)</script> Mug"},
                    },
                    "quantity": 2,
                }
            ],
            "success_url": "https://shop.example/orders/9?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/orders/9?checkout=cancelled",
            "expires_at": int(time.time()) + 3600,
            "customer_email": "shopper@example.com",
            "client_reference_id": "9",
            "metadata": {"order_id": "9", "attempt": "1"},
            "payment_intent_data": {"metadata": {"order_id": "9", "attempt": "1"}},
            **params,
        }
    )


def pay_on_page(cs, choice: str):
    return http("POST", cs.url, f"choice={choice}".encode())


def test_checkout_session_paid_on_the_hosted_page(client, receiver):
    cs = session(client)
    assert (cs.status, cs.payment_status, cs.amount_total, cs.currency) == (
        "open",
        "unpaid",
        2500,
        "eur",
    )
    assert cs.payment_intent is None  # made when the shopper pays

    status, _, page = http("GET", cs.url)
    assert status == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "https://shop.example/orders/9?checkout=cancelled" in page  # the cancel link

    status, headers, _ = pay_on_page(cs, "4242424242424242")
    assert status == 303
    assert headers["Location"] == f"https://shop.example/orders/9?session_id={cs.id}"

    paid = client.v1.checkout.sessions.retrieve(cs.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    pi = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert pi.metadata.to_dict() == {"order_id": "9", "attempt": "1"}
    assert pi.amount_received == 2500

    types = event_types(receiver, 4)
    assert types[-1] == "checkout.session.completed"
    completed = receiver.events()[-1]["data"]["object"]
    assert completed["payment_status"] == "paid"
    assert completed["payment_intent"] == pi.id
    assert completed["client_reference_id"] == "9"


def test_checkout_decline_shows_the_message_and_allows_another_card(client):
    cs = session(client)
    status, _, page = pay_on_page(cs, "4000000000009995")
    assert status == 402
    assert "Your card has insufficient funds." in page
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"

    status, _headers, _ = pay_on_page(cs, "4242424242424242")
    assert status == 303
    assert client.v1.checkout.sessions.retrieve(cs.id).payment_status == "paid"


def test_checkout_three_d_secure(client):
    cs = session(client)
    status, headers, _ = pay_on_page(cs, "4000002500003155")
    assert status == 303 and headers["Location"].startswith("/3ds/pi_")
    status, headers, _ = http(
        "POST", f"{cs.url.split('/c/pay/')[0]}{headers['Location']}", b"result=succeeded"
    )
    assert status == 303
    assert cs.id in headers["Location"]
    assert client.v1.checkout.sessions.retrieve(cs.id).payment_status == "paid"


@pytest.mark.parametrize(
    ("choice", "outcome", "event", "final_payment_status"),
    [
        ("pm_async_success", "succeeded", "checkout.session.async_payment_succeeded", "paid"),
        ("pm_async_failure", "failed", "checkout.session.async_payment_failed", "unpaid"),
    ],
)
def test_checkout_async_payment(
    emulator, client, receiver, choice, outcome, event, final_payment_status
):
    cs = session(client)
    assert pay_on_page(cs, choice)[0] == 303
    completed = client.v1.checkout.sessions.retrieve(cs.id)
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    emulator.control("POST", f"/payment_intents/{cs.id}/settle", {"outcome": outcome})

    wait_until(lambda: event in [e["type"] for e in receiver.events()], what=event)
    completed_events = [e for e in receiver.events() if e["type"] == "checkout.session.completed"]
    assert completed_events[0]["data"]["object"]["payment_status"] == "unpaid"
    assert client.v1.checkout.sessions.retrieve(cs.id).payment_status == final_payment_status


def test_checkout_dispute_card(client):
    cs = session(client)
    pay_on_page(cs, "4000000000000259")
    pi = client.v1.checkout.sessions.retrieve(cs.id).payment_intent
    assert client.v1.disputes.list(params={"payment_intent": pi}).data[0].reason == "fraudulent"


def test_checkout_expire_and_line_items(emulator, client, receiver):
    cs = session(client)
    items = client.v1.checkout.sessions.line_items.list(cs.id)
    assert [(i.quantity, i.amount_total, i.price.unit_amount) for i in items.data] == [
        (2, 2500, 1250)
    ]
    expired = client.v1.checkout.sessions.expire(cs.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert event_types(receiver, 1) == ["checkout.session.expired"]
    assert http("GET", cs.url)[0] == 410

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.expire(cs.id)
    assert caught.value.code == "checkout_session_unexpected_state"

    other = session(client)
    assert emulator.control("POST", f"/checkout_sessions/{other.id}/expire")[0] == 200
    listed = client.v1.checkout.sessions.list(params={"status": "expired"})
    assert {s.id for s in listed.data} == {cs.id, other.id}


def test_checkout_refuses_an_expiry_stripe_would_refuse(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        session(client, expires_at=int(time.time()) + 60)
    assert caught.value.param == "expires_at"


def test_checkout_refuses_a_url_that_is_not_a_web_url(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        session(client, cancel_url="javascript:alert(1)")
    assert (caught.value.code, caught.value.param) == ("url_invalid", "cancel_url")


def test_checkout_pay_through_the_control_api(emulator, client):
    cs = session(client)
    status, body = emulator.control(
        "POST", f"/checkout_sessions/{cs.id}/pay", {"card": "4242424242424242"}
    )
    assert status == 200
    assert body["redirect"] == f"https://shop.example/orders/9?session_id={cs.id}"


# --- refunds -----------------------------------------------------------------------------------
def paid_intent(client, amount=5000):
    return intent(client, amount=amount, payment_method=CARD, confirm=True)


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
    pi = intent(client, amount=3000, payment_method="pm_async_success", confirm=True)
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


# --- the account and balance transactions (what dj-stripe's mirror fetches) --------------------
def test_the_account_behind_the_key_is_stripes_shape_and_outlives_a_reset(emulator, client):
    account = client.v1.accounts.retrieve_current()
    assert account.id.startswith("acct_")
    assert (account.object, account.type, account.country) == ("account", "standard", "US")
    assert (account.charges_enabled, account.default_currency) == (True, "usd")
    assert account.settings.branding.icon is None  # nothing for dj-stripe to fetch
    assert "livemode" not in account  # Stripe's platform account answer has none
    assert emulator.control("POST", "/reset")[0] == 200
    assert emulator.client("sk_test_another_key").v1.accounts.retrieve_current().id == account.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.accounts.retrieve_current(params={"display_name": "x"})
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "display_name")


def test_a_captured_charge_has_a_pending_balance_transaction_with_stripes_fee(client):
    pi = paid_intent(client, amount=5000)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.balance_transaction.startswith("txn_")
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert (txn.object, txn.type, txn.reporting_category) == (
        "balance_transaction",
        "charge",
        "charge",
    )
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (5000, 175, 4825, "usd")  # 2.9% + 30
    assert txn.fee_details[0].type == "stripe_fee"
    assert (txn.source, txn.status) == (charge.id, "pending")
    assert txn.available_on == txn.created + 2 * 86400

    expanded = client.v1.charges.retrieve(charge.id, params={"expand": ["balance_transaction"]})
    assert expanded.balance_transaction.id == txn.id
    assert expanded.balance_transaction.net == 4825


def test_a_refund_has_a_negative_balance_transaction(client):
    pi = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1200})
    refund = client.v1.refunds.retrieve(refund.id, params={"expand": ["balance_transaction"]})
    txn = refund.balance_transaction
    assert (txn.type, txn.amount, txn.fee, txn.net) == ("refund", -1200, 0, -1200)
    assert (txn.source, txn.status, txn.currency) == (refund.id, "available", "usd")


def test_an_authorisation_moves_no_money_until_captured(client):
    pi = intent(client, amount=3000, payment_method=CARD, confirm=True, capture_method="manual")
    assert client.v1.charges.retrieve(pi.latest_charge).balance_transaction is None
    client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 2000})
    charge = client.v1.charges.retrieve(
        pi.latest_charge, params={"expand": ["balance_transaction"]}
    )
    assert (charge.balance_transaction.amount, charge.balance_transaction.fee) == (2000, 88)


def test_a_bank_debit_has_its_balance_transaction_when_the_bank_pays(emulator, client):
    pi = intent(client, payment_method="pm_async_success", confirm=True)
    assert client.v1.charges.retrieve(pi.latest_charge).balance_transaction is None
    emulator.control("POST", f"/payment_intents/{pi.id}/settle", {"outcome": "succeeded"})
    charge = client.v1.charges.retrieve(
        pi.latest_charge, params={"expand": ["balance_transaction"]}
    )
    assert (charge.balance_transaction.type, charge.balance_transaction.fee) == ("payment", 16)


def test_a_failed_refund_gives_the_money_back_in_a_failure_balance_transaction(emulator, client):
    pi = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 700})
    emulator.control("POST", f"/refunds/{refund.id}/fail", {})
    failed = client.v1.refunds.retrieve(
        refund.id, params={"expand": ["failure_balance_transaction"]}
    )
    assert failed.failure_balance_transaction.type == "refund_failure"
    assert failed.failure_balance_transaction.amount == 700


def test_a_dispute_embeds_its_withdrawal_and_reinstatement(emulator, client):
    pi = paid_intent(client, amount=5000)
    _, dispute = emulator.control("POST", "/disputes", {"payment": pi.id})
    emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "won"})
    withdrawal, reinstatement = client.v1.disputes.retrieve(dispute["id"]).balance_transactions
    assert (withdrawal.object, withdrawal.reporting_category) == ("balance_transaction", "dispute")
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-5000, 1500, -6500)
    assert (reinstatement.reporting_category, reinstatement.amount) == ("dispute_reversal", 5000)
    assert client.v1.balance_transactions.retrieve(withdrawal.id).source == dispute["id"]


def test_balance_transactions_list_filters_and_expands_the_source(client):
    pi = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    listed = client.v1.balance_transactions.list(params={"expand": ["data.source"]})
    assert [t.type for t in listed.data] == ["refund", "charge"]  # newest first
    assert [t.source.id for t in listed.data] == [refund.id, pi.latest_charge]
    by_type = client.v1.balance_transactions.list(params={"type": "charge"})
    assert [t.source for t in by_type.data] == [pi.latest_charge]
    by_source = client.v1.balance_transactions.list(params={"source": refund.id})
    assert [t.amount for t in by_source.data] == [-500]
    assert client.v1.balance_transactions.list(params={"currency": "eur"}).data == []
    assert client.v1.balance_transactions.list(params={"payout": "po_123"}).data == []


def test_balance_transaction_parameters_and_ids_are_checked(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance_transactions.retrieve("txn_missing")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance_transactions.list(params={"limit": "many"})
    assert (caught.value.code, caught.value.param) == ("parameter_invalid_integer", "limit")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance_transactions.list(params={"status": "pending"})
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "status")


def test_test_payment_methods_can_be_retrieved(client):
    card = client.v1.payment_methods.retrieve("pm_card_visa")
    assert (card.object, card.type, card.card.brand, card.card.last4) == (
        "payment_method",
        "card",
        "visa",
        "4242",
    )
    debit = client.v1.payment_methods.retrieve("pm_async_success")
    assert debit.us_bank_account.last4 == "6789"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.retrieve("pm_unknown")
    assert caught.value.code == "resource_missing"


def test_what_dj_stripe_expands_on_customers_and_sessions(client):
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    assert customer.default_source is None and "sources" not in customer
    expanded = client.v1.customers.retrieve(
        customer.id, params={"expand": ["default_source", "sources"]}
    )
    assert (expanded.default_source, expanded.sources.data) == (None, [])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(customer.id, params={"default_source": "card_123"})
    assert (caught.value.code, caught.value.param) == ("resource_missing", "default_source")
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://shop.example/ok",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 900,
                        "product_data": {"name": "Mug"},
                    },
                }
            ],
        }
    )
    session = client.v1.checkout.sessions.retrieve(
        session.id,
        params={"expand": ["line_items", "total_details.breakdown", "line_items.data.discounts"]},
    )
    assert session.total_details.breakdown.to_dict() == {"discounts": [], "taxes": []}
    assert session.line_items.data[0].discounts == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["total_details.nope"]})
    assert caught.value.param == "expand"


# --- events -------------------------------------------------------------------------------------
def test_events_list_filters_and_retrieve(client):
    pi = paid_intent(client)
    events = client.v1.events.list(params={"type": "payment_intent.*"})
    assert [e.type for e in events.data] == ["payment_intent.succeeded", "payment_intent.created"]
    event = client.v1.events.retrieve(events.data[0].id)
    assert event.data.object.id == pi.id
    assert event.api_version == "2026-08-26.dahlia"
    assert event.livemode is False
    created = client.v1.events.list(params={"created": {"gte": int(time.time()) - 60}})
    assert len(created.data) == 3
    only_charges = client.v1.events.list(params={"types": ["charge.succeeded"]})
    assert [e.type for e in only_charges.data] == ["charge.succeeded"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"types": [f"type.{n}" for n in range(21)]})
    assert caught.value.param == "types"


def test_every_endpoint_checks_against_a_resolvable_sdk_definition():
    from stripe_emulator import endpoints  # noqa: F401 (fills the table)
    from stripe_emulator.api import ROUTES
    from stripe_emulator.validation import fields_of

    assert len(ROUTES) >= 35
    for endpoint in ROUTES:
        fields, required = fields_of(endpoint.params)
        if endpoint.method != "DELETE":  # Stripe's deletes take no parameters at all
            assert "expand" in fields, endpoint.pattern.pattern
        assert required <= set(fields)


def test_three_decimal_amounts_must_end_in_zero_as_stripe_requires(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 1235, "currency": "kwd"})
    assert (caught.value.http_status, caught.value.param) == (400, "amount")
    assert "multiple of 10" in caught.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "https://shop.example/ok",
                "line_items": [
                    {
                        "price_data": {
                            "currency": "bhd",
                            "unit_amount": 1235,
                            "product_data": {"name": "Oud"},
                        },
                        "quantity": 2,
                    }
                ],
            }
        )
    assert caught.value.param == "line_items[0][price_data][unit_amount]"
    paid = client.v1.payment_intents.create(
        params={"amount": 1230, "currency": "kwd", "payment_method": CARD, "confirm": True}
    )
    assert paid.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 125})
    assert caught.value.param == "amount"
    assert client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 120}).amount == 120


def test_below_minimum_and_fractional_isk_are_refused_as_stripe_does(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 190, "currency": "kwd"})
    assert caught.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 15_050, "currency": "isk"})
    assert caught.value.code == "invalid_charge_amount_no_decimal_compatible"
    assert client.v1.payment_intents.create(params={"amount": 15_000, "currency": "isk"}).amount
