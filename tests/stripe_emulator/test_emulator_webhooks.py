"""The Stripe emulator's webhook delivery (signatures, retries, misbehaviour modes) and its
injected API faults, as the SDK and a receiver see them."""

import json
import time

import pytest
import stripe

from devstack import Emulator, free_port, wait_until
from tests.stripe_emulator.helpers import RETURN_URL, deliveries, succeeded_deliveries


@pytest.fixture(scope="module")
def emulator():
    server = Emulator("--max-delivery-attempts", "4", "--hang-seconds", "3").start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(client, receiver):
    return client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": [
                "payment_intent.created",
                "payment_intent.succeeded",
                "charge.succeeded",
                "customer.created",
            ],
        }
    )


def customer(client, email="a@example.com"):
    return client.v1.customers.create(params={"email": email})


# --- endpoints and signatures ------------------------------------------------------------------
def test_endpoint_lifecycle(emulator, client, receiver, endpoint):
    assert endpoint.secret.startswith("whsec_")
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [endpoint.id]
    assert "secret" not in listed.data[0]  # Stripe shows it only once
    _, control_view = emulator.control("GET", "/webhook_endpoints")
    assert [e["secret"] for e in control_view["data"]] == [endpoint.secret]

    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True
    customer(client, "unheard@example.com")
    client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created"]}
    )
    customer(client, "heard@example.com")
    wait_until(lambda: receiver.events(), what="the delivery to the new endpoint")
    assert [e["data"]["object"]["email"] for e in receiver.events()] == ["heard@example.com"]


def test_the_signature_verifies_with_the_endpoint_secret_and_not_when_tampered(
    client, receiver, endpoint
):
    created = customer(client)
    wait_until(lambda: receiver.received, what="a delivery")
    delivery = receiver.received[0]
    payload = delivery["body"].decode()
    header = delivery["headers"]["Stripe-Signature"]
    assert header.startswith("t=") and ",v1=" in header

    event = stripe.Webhook.construct_event(payload, header, endpoint.secret)
    assert event.type == "customer.created"
    assert event.data.object.id == created.id

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.replace(created.id, "cus_forged"), header, endpoint.secret
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, header, "whsec_someone_else")


def test_event_shape(client, receiver, endpoint):
    pi = client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd"}, options={"idempotency_key": "k-shape"}
    )
    wait_until(lambda: receiver.events(), what="a delivery")
    event = receiver.events()[0]
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["api_version"] == "2026-08-26.dahlia"
    assert isinstance(event["created"], int)
    assert event["livemode"] is False
    assert event["type"] == "payment_intent.created"
    assert event["data"]["object"]["id"] == pi.id
    assert event["pending_webhooks"] == 1
    assert event["request"]["idempotency_key"] == "k-shape"
    assert event["request"]["id"].startswith("req_")


def test_only_enabled_events_are_sent(client, receiver, endpoint):
    pi = client.v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    client.v1.refunds.create(params={"payment_intent": pi.id})
    customer(client)  # deliveries go out in order: this one comes after any refund event
    wait_until(
        lambda: "customer.created" in [e["type"] for e in receiver.events()],
        what="the customer event",
    )
    assert [e["type"] for e in receiver.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "customer.created",
    ]


# --- retries and delivery_success -----------------------------------------------------------
def test_a_failed_delivery_is_retried_until_the_receiver_answers(
    emulator, client, receiver, endpoint
):
    receiver.fail_next(2)
    customer(client)
    wait_until(lambda: succeeded_deliveries(emulator), what="the successful retry")
    attempts = [(d["attempt"], d["outcome"], d["status"]) for d in deliveries(emulator)]
    assert attempts == [(1, "failed", 500), (2, "failed", 500), (3, "succeeded", 200)]
    assert len({e["id"] for e in receiver.events()}) == 1  # the same event each time

    wait_until(
        lambda: client.v1.events.list(params={"delivery_success": True}).data,
        what="delivery_success",
    )
    assert client.v1.events.list(params={"delivery_success": False}).data == []


def test_an_event_never_acknowledged_is_listed_as_not_delivered(
    emulator, client, receiver, endpoint
):
    receiver.fail_next(100)
    failing = customer(client, "fails@example.com")
    wait_until(lambda: len(deliveries(emulator)) == 4, what="four attempts")
    receiver.fail_next(0)
    customer(client, "works@example.com")
    wait_until(lambda: succeeded_deliveries(emulator), what="the second event delivered")

    failed = client.v1.events.list(params={"delivery_success": False}).data
    assert [e.data.object.id for e in failed] == [failing.id]
    assert failed[0].pending_webhooks == 1
    delivered = client.v1.events.list(params={"delivery_success": True}).data
    assert [e.data.object.email for e in delivered] == ["works@example.com"]


def test_a_refused_connection_is_retried(emulator, client):
    client.v1.webhook_endpoints.create(
        params={"url": f"http://127.0.0.1:{free_port()}/nothing-listens", "enabled_events": ["*"]}
    )
    customer(client)
    wait_until(lambda: len(deliveries(emulator)) == 4, what="four attempts")
    assert all(d["status"] is None and d["error"] for d in deliveries(emulator))


# --- delivery modes ----------------------------------------------------------------------------
def test_duplicate_mode_sends_each_event_twice(emulator, client, receiver, endpoint):
    emulator.control("POST", "/webhooks/modes", {"mode": "duplicate"})
    customer(client)
    wait_until(lambda: len(receiver.events()) == 2, what="two deliveries")
    first, second = receiver.events()
    assert first["id"] == second["id"]

    emulator.control("DELETE", "/webhooks/modes")
    customer(client, "b@example.com")
    customer(client, "c@example.com")  # a duplicate of b's event would arrive before it
    wait_until(lambda: len(receiver.events()) >= 4, what="the fourth delivery")
    emails = [e["data"]["object"]["email"] for e in receiver.events()]
    assert emails == ["a@example.com", "a@example.com", "b@example.com", "c@example.com"]


def test_drop_mode_loses_deliveries_and_the_event_shows_undelivered(
    emulator, client, receiver, endpoint
):
    emulator.control("POST", "/webhooks/modes", {"mode": "drop", "count": 1})
    lost = customer(client, "lost@example.com")
    customer(client, "kept@example.com")
    wait_until(lambda: succeeded_deliveries(emulator), what="the second event delivered")
    assert [e["data"]["object"]["email"] for e in receiver.events()] == ["kept@example.com"]
    dropped = [d for d in deliveries(emulator) if d["outcome"] == "dropped"]
    assert len(dropped) == 1
    undelivered = client.v1.events.list(params={"delivery_success": False}).data
    assert [e.data.object.id for e in undelivered] == [lost.id]


def test_a_mode_covers_the_events_made_while_it_was_on(emulator, client, receiver, endpoint):
    emulator.control("POST", "/webhooks/pause")
    emulator.control("POST", "/webhooks/modes", {"mode": "drop"})
    customer(client, "made-while-dropping@example.com")
    emulator.control("DELETE", "/webhooks/modes")
    customer(client, "made-after@example.com")
    emulator.control("POST", "/webhooks/resume")
    wait_until(lambda: receiver.events(), what="the second event")
    assert [e["data"]["object"]["email"] for e in receiver.events()] == ["made-after@example.com"]


def test_reorder_mode_sends_a_batch_newest_first(emulator, client, receiver, endpoint):
    emulator.control("POST", "/webhooks/modes", {"mode": "reorder", "batch": 2})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    emulator.control("POST", "/webhooks/flush")
    wait_until(lambda: len(receiver.events()) == 3, what="three deliveries")
    assert [e["type"] for e in receiver.events()] == [
        "charge.succeeded",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]
    assert receiver.events()[2]["data"]["object"]["id"] == pi.id


def test_delay_mode_holds_deliveries(emulator, client, receiver, endpoint):
    emulator.control("POST", "/webhooks/modes", {"mode": "delay", "seconds": 0.5})
    started = time.monotonic()
    customer(client)
    wait_until(lambda: receiver.events(), what="the delayed delivery")
    assert time.monotonic() - started >= 0.5


def test_pause_and_resume(emulator, client, receiver, endpoint):
    emulator.control("POST", "/webhooks/pause")
    customer(client)
    wait_until(lambda: emulator.control("GET", "/webhooks")[1]["queued"] == 1, what="queued")
    assert receiver.events() == []
    emulator.control("POST", "/webhooks/resume")
    wait_until(lambda: receiver.events(), what="the delivery after resume")


# --- injected API faults ---------------------------------------------------------------------
def test_an_injected_500_is_an_api_error(emulator, client):
    emulator.control("POST", "/faults", {"kind": "500", "count": 1})
    with pytest.raises(stripe.APIError) as caught:
        customer(client)
    assert caught.value.http_status == 500
    assert customer(client).object == "customer"  # only the next call failed


def test_an_injected_429_is_a_rate_limit_error(emulator, client):
    emulator.control("POST", "/faults", {"kind": "429", "count": 2})
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            client.v1.payment_intents.list()
    assert client.v1.payment_intents.list().object == "list"


def test_the_sdks_own_retries_ride_out_a_transient_500(emulator):
    emulator.control("POST", "/faults", {"kind": "500", "count": 1})
    retrying = emulator.client(retries=2)
    assert retrying.v1.customers.create(params={"email": "x@example.com"}).object == "customer"


def test_the_sdk_does_not_retry_a_429_by_itself(emulator):
    emulator.control("POST", "/faults", {"kind": "429", "count": 1})
    with pytest.raises(stripe.RateLimitError):
        emulator.client(retries=2).v1.customers.list()


def test_an_injected_timeout_is_a_connection_error(emulator):
    emulator.control("POST", "/faults", {"kind": "timeout", "hang_seconds": 3})
    impatient = emulator.client(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.customers.list()
    assert time.monotonic() - started < 2.5
    assert impatient.v1.customers.list().object == "list"


def test_a_reply_lost_after_the_work_is_recovered_by_the_idempotency_key(emulator, client):
    emulator.control("POST", "/faults", {"kind": "500", "when": "after"})
    options = {"idempotency_key": "order-5-attempt-1"}
    params = {"amount": 700, "currency": "usd"}
    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.create(params=params, options=options)
    again = client.v1.payment_intents.create(params=params, options=options)
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [p.id for p in client.v1.payment_intents.list().data] == [again.id]


def test_faults_can_target_a_path_and_be_cleared(emulator, client):
    emulator.control("POST", "/faults", {"kind": "500", "count": 5, "path_prefix": "/v1/refunds"})
    assert customer(client).object == "customer"
    assert len(emulator.control("GET", "/faults")[1]["faults"]) == 1
    emulator.control("DELETE", "/faults")
    assert client.v1.refunds.list().object == "list"


def test_control_api_refuses_nonsense(emulator):
    assert emulator.control("POST", "/faults", {"kind": "418"})[0] == 400
    assert emulator.control("POST", "/webhooks/modes", {"mode": "shuffle"})[0] == 400
    assert emulator.control("GET", "/nothing")[0] == 404
    status, body = emulator.control("POST", "/disputes", {"payment": "pi_missing"})
    assert status == 404
    assert json.dumps(body).count("resource_missing") == 1
