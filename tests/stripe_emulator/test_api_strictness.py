"""What Stripe refuses and a lenient stand-in would let through: idempotency keys reused on
another endpoint or after they were pruned, malformed e-mail addresses, parameters that
exclude each other, a server-side confirm that could redirect with nowhere to return to,
and amounts that break a currency's rules."""

import pytest
import stripe

from tests.stripe_emulator.helpers import CARD, RETURN_URL, intent, session

DAY = 24 * 60 * 60


# --- idempotency keys --------------------------------------------------------------------------
def test_a_key_reused_on_another_endpoint_is_an_idempotency_error(client):
    options = {"idempotency_key": "order-7-attempt-1"}
    first = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options=options
    )
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"email": "x@example.com"}, options=options)
    assert caught.value.http_status == 400
    assert caught.value.error.type == "idempotency_error"
    assert caught.value.user_message == (
        "Keys for idempotent requests can only be used for the same endpoint they were "
        "first used for ('/v1/payment_intents' vs '/v1/customers'). Try using a key other "
        "than 'order-7-attempt-1' if you meant to execute a different request."
    )
    assert client.v1.customers.list().data == []
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.cancel(first.id, options=options)
    assert client.v1.payment_intents.retrieve(first.id).status == "requires_payment_method"


def test_a_key_is_replayed_for_24_hours_then_pruned(emulator, client):
    options = {"idempotency_key": "order-8-attempt-1"}
    params = {"amount": 100, "currency": "usd"}
    first = client.v1.payment_intents.create(params=params, options=options)
    emulator.control("POST", "/clock/advance", {"seconds": DAY - 60})
    assert client.v1.payment_intents.create(params=params, options=options).id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params={**params, "amount": 200}, options=options)

    emulator.control("POST", "/clock/advance", {"seconds": 60})
    again = client.v1.payment_intents.create(params=params, options=options)
    assert again.id != first.id
    # Once pruned the key is free for anything, another endpoint included.
    emulator.control("POST", "/clock/advance", {"seconds": DAY})
    assert client.v1.customers.create(params={}, options=options).object == "customer"


# --- e-mail addresses ------------------------------------------------------------------------
@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_an_invalid_receipt_email_is_refused(client, email):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, receipt_email=email)
    assert (caught.value.code, caught.value.param) == ("email_invalid", "receipt_email")
    assert caught.value.user_message == f"Invalid email address: {email}"
    assert client.v1.payment_intents.list().data == []


def test_receipt_email_is_checked_on_update_and_confirm_and_can_be_unset(client):
    pi = intent(client, receipt_email="shopper@example.com")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.update(pi.id, params={"receipt_email": "shopper@"})
    assert caught.value.code == "email_invalid"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(
            pi.id,
            params={"payment_method": CARD, "receipt_email": "x", "return_url": RETURN_URL},
        )
    assert caught.value.code == "email_invalid"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
    assert (
        client.v1.payment_intents.update(pi.id, params={"receipt_email": ""}).receipt_email is None
    )


def test_checkout_and_customer_emails_are_checked_too(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        session(client, customer_email="shopper.example.com")
    assert (caught.value.code, caught.value.param) == ("email_invalid", "customer_email")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"email": "ada@@example.com"})
    assert (caught.value.code, caught.value.param) == ("email_invalid", "email")


# --- automatic payment methods ------------------------------------------------------------
def test_automatic_payment_methods_exclude_payment_method_types(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, automatic_payment_methods={"enabled": True}, payment_method_types=["card"])
    assert caught.value.param == "automatic_payment_methods"
    assert caught.value.user_message == (
        "You may only specify one of these parameters: automatic_payment_methods, "
        "payment_method_types."
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, automatic_payment_methods={"enabled": True}, confirmation_method="manual")
    assert caught.value.user_message == (
        "You may only specify one of these parameters: automatic_payment_methods, "
        "confirmation_method."
    )
    assert client.v1.payment_intents.list().data == []


def test_without_payment_method_types_automatic_payment_methods_are_on(client):
    automatic = intent(client)
    assert automatic.automatic_payment_methods.to_dict() == {
        "enabled": True,
        "allow_redirects": "always",
    }
    cards_only = intent(client, payment_method_types=["card"])
    assert cards_only.automatic_payment_methods is None
    assert cards_only.payment_method_types == ["card"]


RETURN_URL_MESSAGE = (
    "A `return_url` must be specified because this Payment Intent is configured to "
    "automatically accept the payment methods enabled in the Dashboard, some of which may "
    "require a full page redirect to succeed. If you do not want to accept redirect-based "
    "payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
    "and Payment Intents."
)


def test_a_server_side_confirm_that_may_redirect_needs_a_return_url(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "usd", "payment_method": CARD, "confirm": True}
        )
    assert caught.value.user_message == RETURN_URL_MESSAGE
    assert client.v1.payment_intents.list().data == []

    pi = intent(client, automatic_payment_methods={"enabled": True})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": CARD})
    assert caught.value.user_message == RETURN_URL_MESSAGE
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
    assert client.v1.charges.list().data == []


@pytest.mark.parametrize(
    "params",
    [
        {"return_url": RETURN_URL},
        {"automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}},
        {"payment_method_types": ["card"]},
    ],
)
def test_a_return_url_or_no_redirects_lets_a_server_side_confirm_through(client, params):
    pi = intent(client, payment_method=CARD, confirm=True, **params)
    assert pi.status == "succeeded"


def test_a_page_confirming_with_the_publishable_key_needs_no_return_url(emulator, client):
    pi = intent(client)
    confirmed = emulator.client("pk_test_browser").v1.payment_intents.confirm(
        pi.id, params={"payment_method": CARD, "client_secret": pi.client_secret}
    )
    assert confirmed.status == "succeeded"


# --- currencies --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (49, "usd", "Amount must be at least $0.50 usd"),
        (29, "gbp", "Amount must be at least £0.30 gbp"),
        (49, "jpy", "Amount must be at least ¥50 jpy"),
        (17_400, "huf", "Amount must be at least 175.00 huf"),
        (190, "kwd", "Amount must be at least 0.200 kwd"),
    ],
)
def test_below_the_minimum_names_the_minimum(client, amount, currency, message):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": amount, "currency": currency})
    assert (caught.value.code, caught.value.param) == ("amount_too_small", "amount")
    assert caught.value.user_message == message


def test_above_the_maximum_names_the_maximum(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "usd"})
    assert (caught.value.code, caught.value.param) == ("amount_too_large", "amount")
    assert caught.value.user_message == "Amount must be no more than $999,999.99 usd"
    # IDR takes twelve digits.
    assert (
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "idr"}).amount
        == 100_000_000
    )


def test_a_three_decimal_amount_is_refused_on_update_and_capture(client):
    pi = intent(client, amount=1230, currency="kwd")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.update(pi.id, params={"amount": 1235})
    assert caught.value.param == "amount"
    held = intent(
        client,
        amount=5000,
        currency="kwd",
        capture_method="manual",
        payment_method=CARD,
        confirm=True,
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 2505})
    assert caught.value.param == "amount_to_capture"
    assert client.v1.payment_intents.retrieve(held.id).status == "requires_capture"


def test_a_checkout_session_below_the_minimum_or_above_the_maximum_is_refused(client):
    item = {"price_data": {"currency": "eur", "product_data": {"name": "Pin"}}, "quantity": 1}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        session(
            client, line_items=[{**item, "price_data": {**item["price_data"], "unit_amount": 20}}]
        )
    assert caught.value.code == "amount_too_small"
    assert "€0.50 eur" in caught.value.user_message
    huge = {**item, "price_data": {**item["price_data"], "unit_amount": 100_000_000}}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        session(client, line_items=[huge])
    assert caught.value.param == "line_items[0][price_data][unit_amount]"
    assert client.v1.checkout.sessions.list().data == []
