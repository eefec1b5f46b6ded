"""The emulator's Checkout Sessions and their hosted page."""

import time

import pytest
import stripe

from devstack import wait_until
from tests.stripe_emulator.helpers import event_types, http, pay_on_page, session


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
        (
            "pm_usBankAccount_success",
            "succeeded",
            "checkout.session.async_payment_succeeded",
            "paid",
        ),
        (
            "pm_usBankAccount_debitNotAuthorized",
            "failed",
            "checkout.session.async_payment_failed",
            "unpaid",
        ),
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
