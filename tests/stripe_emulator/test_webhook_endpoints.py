"""The emulator's webhook endpoints through the official SDK: create, retrieve, update, list
and delete as Stripe's API reference has them, Stripe's refusals, and deliveries only of
each endpoint's enabled types, stamped with its API version."""

import json

import pytest
import stripe

from devstack import Emulator, wait_until
from tests.stripe_emulator.helpers import deliveries


@pytest.fixture(scope="module")
def emulator():
    server = Emulator().start()  # no --webhook-url: each test makes its own endpoints
    yield server
    server.stop()


def endpoint(client, receiver, *events, **params):
    return client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": list(events), **params}
    )


def delivered_types(emulator, endpoint_id: str) -> list[str]:
    return [d["event_type"] for d in deliveries(emulator) if d["endpoint_id"] == endpoint_id]


# --- the API -----------------------------------------------------------------------------------
def test_an_endpoint_is_created_retrieved_updated_and_deleted(client, receiver):
    created = endpoint(
        client,
        receiver,
        "payment_intent.succeeded",
        "charge.refunded",
        description="orders",
        metadata={"team": "payments", "shop": "demo"},
        api_version="2024-06-20",
    )
    assert created.id.startswith("we_") and created.object == "webhook_endpoint"
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    assert created.enabled_events == ["payment_intent.succeeded", "charge.refunded"]
    assert (created.url, created.description) == (receiver.url, "orders")
    assert created.api_version == "2024-06-20"
    assert created.livemode is False and created.application is None

    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched  # Stripe returns it only at creation
    assert fetched.metadata.to_dict() == {"team": "payments", "shop": "demo"}

    updated = client.v1.webhook_endpoints.update(
        created.id,
        params={
            "url": "https://shop.example/stripe/webhook",
            "enabled_events": ["*"],
            "description": "",
            "metadata": {"shop": "", "region": "eu"},
            "disabled": True,
        },
    )
    assert updated.url == "https://shop.example/stripe/webhook"
    assert updated.enabled_events == ["*"]
    assert updated.description is None
    assert updated.metadata.to_dict() == {"team": "payments", "region": "eu"}
    assert updated.status == "disabled"
    assert "secret" not in updated
    again = client.v1.webhook_endpoints.update(created.id, params={"disabled": False})
    assert again.status == "enabled"

    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.retrieve(created.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_endpoints_are_listed_newest_first_in_pages(client, receiver):
    made = [endpoint(client, receiver, "customer.created") for _ in range(3)]
    first = client.v1.webhook_endpoints.list(params={"limit": 2})
    assert [e.id for e in first.data] == [made[2].id, made[1].id]
    assert first.has_more is True
    assert all("secret" not in e for e in first.data)
    rest = client.v1.webhook_endpoints.list(params={"limit": 2, "starting_after": made[1].id})
    assert [e.id for e in rest.data] == [made[0].id]
    assert rest.has_more is False
    every = [e.id for e in client.v1.webhook_endpoints.list().auto_paging_iter()]
    assert every == [m.id for m in reversed(made)]


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"url": "not a url"}, "url", "url_invalid"),
        ({"url": "ftp://files.example/hook"}, "url", "url_invalid"),
        ({"enabled_events": ["payment_intent.teleported"]}, "enabled_events[0]", None),
        ({"enabled_events": ["*", "charge.refunded"]}, "enabled_events", "parameter_invalid"),
        ({"api_version": "1999-01-01"}, "api_version", "parameter_invalid"),
        ({"url": None}, "url", "parameter_missing"),
        ({"enabled_events": None}, "enabled_events", "parameter_missing"),
    ],
)
def test_stripe_refuses_a_bad_endpoint_and_makes_nothing(client, receiver, params, param, code):
    request = {"url": receiver.url, "enabled_events": ["charge.refunded"], **params}
    request = {key: value for key, value in request.items() if value is not None}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(params=request)
    assert (caught.value.http_status, caught.value.param) == (400, param)
    if code:
        assert caught.value.code == code
    assert client.v1.webhook_endpoints.list().data == []


def test_an_update_is_checked_like_a_create(client, receiver):
    made = endpoint(client, receiver, "charge.refunded")
    for params, param in (
        ({"url": "mailto:ops@example.com"}, "url"),
        ({"enabled_events": ["charge.exploded"]}, "enabled_events[0]"),
        ({"status": "disabled"}, "status"),  # `disabled` is the parameter, not `status`
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.webhook_endpoints.update(made.id, params=params)
        assert caught.value.param == param
    unchanged = client.v1.webhook_endpoints.retrieve(made.id)
    assert (unchanged.url, unchanged.enabled_events) == (receiver.url, ["charge.refunded"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.update("we_missing", params={"disabled": True})
    assert caught.value.http_status == 404


# --- what each endpoint is sent ------------------------------------------------------------------
def test_each_endpoint_is_sent_only_its_enabled_event_types(emulator, client, receiver):
    customers = endpoint(client, receiver, "customer.created")
    payments = endpoint(client, receiver, "payment_intent.created", "payment_intent.succeeded")
    client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": "https://shop.example/orders/1",  # Stripe wants it on a server confirm
        }
    )
    wait_until(lambda: len(deliveries(emulator)) == 3, what="three deliveries")
    assert delivered_types(emulator, customers.id) == ["customer.created"]
    assert delivered_types(emulator, payments.id) == [
        "payment_intent.created",
        "payment_intent.succeeded",
    ]  # no charge.succeeded: not enabled
    assert len(receiver.events()) == 3

    with pytest.raises(stripe.InvalidRequestError):  # Stripe has no wildcards here
        client.v1.webhook_endpoints.update(customers.id, params={"enabled_events": ["customer.*"]})
    client.v1.webhook_endpoints.update(
        customers.id, params={"enabled_events": ["customer.updated"]}
    )
    made = client.v1.customers.create(params={"email": "b@example.com"})
    client.v1.customers.update(made.id, params={"name": "B"})
    wait_until(lambda: len(deliveries(emulator)) == 4, what="the update's delivery")
    assert delivered_types(emulator, customers.id) == ["customer.created", "customer.updated"]


def test_a_disabled_endpoint_is_sent_nothing_until_it_is_enabled(emulator, client, receiver):
    quiet = endpoint(client, receiver, "customer.created")
    witness = endpoint(client, receiver, "customer.created")
    client.v1.webhook_endpoints.update(quiet.id, params={"disabled": True})
    client.v1.customers.create(params={"email": "unheard@example.com"})
    wait_until(lambda: delivered_types(emulator, witness.id), what="the witness's delivery")
    [event] = client.v1.events.list(params={"type": "customer.created"}).data
    assert event.pending_webhooks == 0  # the disabled endpoint was never going to get it
    assert delivered_types(emulator, quiet.id) == []

    client.v1.webhook_endpoints.update(quiet.id, params={"disabled": False})
    client.v1.customers.create(params={"email": "heard@example.com"})
    wait_until(lambda: len(receiver.events()) == 3, what="the deliveries once enabled")
    assert delivered_types(emulator, quiet.id) == ["customer.created"]
    bodies = [e["data"]["object"]["email"] for e in receiver.events()]
    assert bodies.count("unheard@example.com") == 1  # the witness's copy only
    assert bodies.count("heard@example.com") == 2


def test_an_endpoint_with_an_api_version_gets_events_stamped_with_it(emulator, client, receiver):
    pinned = endpoint(client, receiver, "customer.created", api_version="2024-06-20")
    plain = endpoint(client, receiver, "customer.created")
    made = client.v1.customers.create(params={"email": "a@example.com"})
    wait_until(lambda: len(receiver.received) == 2, what="both deliveries")

    secrets = {pinned.secret: "2024-06-20", plain.secret: "2026-08-26.dahlia"}
    for delivery in receiver.received:
        payload, header = delivery["body"].decode(), delivery["headers"]["Stripe-Signature"]
        [version] = [v for secret, v in secrets.items() if _verifies(payload, header, secret)]
        assert json.loads(payload)["api_version"] == version
        assert json.loads(payload)["data"]["object"]["id"] == made.id
    # The Events API shows the event at the account's version, as Stripe does.
    [event] = client.v1.events.list().data
    assert event.api_version == "2026-08-26.dahlia"


def _verifies(payload: str, header: str, secret: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret)
    except stripe.SignatureVerificationError:
        return False
    return True
