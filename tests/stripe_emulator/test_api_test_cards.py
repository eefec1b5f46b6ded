"""Stripe's documented test cards through the official SDK: each row's outcome, as Stripe's
testing docs give it (stripe_emulator/cards/table.py)."""

import pytest
import stripe

from stripe_emulator.cards import table
from tests.stripe_emulator.helpers import http, intent, pay_on_page, session


def _rows(rows, *, ids=True):
    return [pytest.param(pm, id=pm.id or pm.number) for pm in rows if pm.id or not ids]


@pytest.mark.parametrize("pm", _rows(table.BY_BRAND))
def test_cards_by_brand_pay_and_show_the_card(client, pm):
    pi = intent(client, payment_method=pm.id, confirm=True)
    assert pi.status == "succeeded"
    card = client.v1.charges.retrieve(pi.latest_charge).payment_method_details.card
    assert (card.brand, card.funding, card.last4, card.country) == (
        pm.brand,
        pm.funding,
        pm.number[-4:],
        pm.country,
    )
    method = client.v1.payment_methods.retrieve(pm.id).card
    assert (method.brand, method.last4, method.fingerprint) == (
        pm.brand,
        pm.number[-4:],
        card.fingerprint,
    )
    assert method.exp_year > 2025 and 1 <= method.exp_month <= 12


def _declines():
    rows = [pm for pm in table.DECLINES + table.FRAUD if pm.decline and pm.id]
    return [pytest.param(pm, pm_id, id=pm_id) for pm in rows for pm_id in pm.ids]


@pytest.mark.parametrize(("pm", "pm_id"), _declines())
def test_declined_cards_answer_stripes_card_error(client, receiver, pm, pm_id):
    with pytest.raises(stripe.CardError) as caught:
        intent(client, payment_method=pm_id, confirm=True)
    error = caught.value
    decline = pm.decline
    assert error.http_status == 402
    assert (error.code, error.error.decline_code, error.user_message, error.param) == (
        decline.code,
        decline.decline_code,
        decline.message,
        decline.param,
    )
    assert error.error.get("advice_code") == decline.advice_code
    pi = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == decline.decline_code
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.failure_code, charge.failure_message) == (
        "failed",
        decline.code,
        decline.message,
    )
    expected = ("blocked", "highest") if decline.blocked else ("issuer_declined", "normal")
    assert (charge.outcome.type, charge.outcome.risk_level) == expected


def test_elevated_risk_succeeds_with_its_risk_level(client):
    pi = intent(client, payment_method="pm_card_riskLevelElevated", confirm=True)
    assert pi.status == "succeeded"
    outcome = client.v1.charges.retrieve(pi.latest_charge).outcome
    assert (outcome.type, outcome.risk_level) == ("authorized", "elevated")


@pytest.mark.parametrize(
    "pm", _rows(pm for pm in table.THREE_D_SECURE if pm.outcome == "authenticate")
)
@pytest.mark.parametrize("passed", [True, False], ids=["authenticated", "failed"])
def test_three_d_secure_cards_ask_for_authentication(emulator, client, pm, passed):
    pi = intent(client, payment_method=pm.id, confirm=True, return_url="https://shop.example/r")
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"
    assert pi.next_action.redirect_to_url.url.endswith(f"/3ds/{pi.id}")

    outcome = "succeeded" if passed else "failed"
    emulator.control("POST", f"/payment_intents/{pi.id}/authenticate", {"outcome": outcome})
    after = client.v1.payment_intents.retrieve(pi.id)
    if not passed:
        assert after.status == "requires_payment_method"
        assert after.last_payment_error.code == "payment_intent_authentication_failure"
    elif pm.decline:  # authenticated, then the issuer declines
        assert after.status == "requires_payment_method"
        assert (after.last_payment_error.code, after.last_payment_error.decline_code) == (
            pm.decline.code,
            pm.decline.decline_code,
        )
        assert after.last_payment_error.message == pm.decline.message
    else:
        assert after.status == "succeeded"


def test_three_d_secure_optional_card_pays_without_authentication(client):
    pi = intent(client, payment_method="pm_card_threeDSecureOptional", confirm=True)
    assert (pi.status, pi.next_action) == ("succeeded", None)


@pytest.mark.parametrize("pm", _rows(table.DISPUTES))
def test_dispute_cards_are_disputed_after_paying(client, receiver, pm):
    pi = intent(client, payment_method=pm.id, confirm=True)
    assert pi.status == "succeeded"
    dispute = next(d for d in client.v1.disputes.list().data if d.payment_intent == pi.id)
    status = "warning_needs_response" if pm.inquiry else "needs_response"
    assert (dispute.status, dispute.reason) == (status, pm.dispute_reason)
    assert dispute.payment_method_details.card.brand == pm.brand
    assert client.v1.charges.retrieve(pi.latest_charge).disputed is True


# --- tokens and raw card numbers -------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "pm"),
    [
        pytest.param(token, pm, id=token)
        for pm in table.BY_BRAND + table.DECLINES + table.THREE_D_SECURE
        for token in pm.tokens
    ],
)
def test_tokens_make_a_payment_method_with_the_same_outcome(client, token, pm):
    made = client.v1.payment_methods.create(params={"type": "card", "card": {"token": token}})
    assert made.id.startswith("pm_") and made.id != pm.id
    assert (made.card.last4, made.card.brand) == (pm.number[-4:], pm.brand)
    assert made.card.fingerprint == client.v1.payment_methods.retrieve(pm.id).card.fingerprint
    if pm.outcome == "decline":
        with pytest.raises(stripe.CardError) as caught:
            intent(client, payment_method=made.id, confirm=True)
        assert caught.value.error.decline_code == pm.decline.decline_code
    else:
        expected = "requires_action" if pm.outcome == "authenticate" else "succeeded"
        assert intent(client, payment_method=made.id, confirm=True).status == expected


def test_unknown_token_is_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_nope"}})
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        404,
        "resource_missing",
        "card[token]",
    )


def test_raw_card_numbers_are_refused_as_stripe_refuses_them(client):
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    with pytest.raises(stripe.StripeError) as caught:
        client.v1.payment_methods.create(params={"type": "card", "card": card})
    assert caught.value.http_status == 402
    assert caught.value.user_message.startswith(
        "Sending credit card numbers directly to the Stripe API is generally unsafe."
    )
    # A PaymentIntent's payment_method_data takes no card at this API version at all.
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, payment_method_data={"type": "card", "card": card}, confirm=True)
    assert (caught.value.code, caught.value.param) == (
        "parameter_invalid",
        "payment_method_data[type]",
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        intent(client, source="tok_visa", confirm=True)
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "source")


# --- the hosted Checkout page takes the numbers ---------------------------------------------
@pytest.mark.parametrize(
    "pm", _rows((pm for pm in table.PAYMENT_METHODS if pm.kind == "card"), ids=False)
)
def test_every_card_number_works_on_the_checkout_page(client, pm):
    cs = session(client)
    status, headers, body = pay_on_page(cs, pm.number)
    if pm.outcome == "decline":
        assert status == 402
        assert pm.decline.message.replace("'", "&#x27;") in body
    elif pm.outcome == "authenticate":
        assert (status, headers["Location"].split("/")[1]) == (303, "3ds")
    else:
        assert status == 303
        assert headers["Location"].startswith("https://shop.example/orders/9")
        pi = client.v1.payment_intents.retrieve(
            client.v1.checkout.sessions.retrieve(cs.id).payment_intent
        )
        card = client.v1.charges.retrieve(pi.latest_charge).payment_method_details.card
        assert card.last4 == pm.number[-4:]


def test_checkout_page_offers_every_test_card_number(client):
    cs = session(client)
    _, _, page = http("GET", cs.url)
    for pm in table.PAYMENT_METHODS:
        if pm.kind == "card":
            assert f'value="{pm.number}"' in page


@pytest.mark.parametrize(
    ("typed", "status", "shown"),
    [
        ("4000 0000 0000 9995", 402, "Your card has insufficient funds."),
        ("4242 4242 4242 4241", 402, "Your card number is incorrect."),
        ("1234", 402, "Your card number is incorrect."),
        # Luhn-valid, but no test card: Stripe's test mode takes no real cards.
        ("4917 4845 8989 7107", 402, "but used a non test (live) card."),
    ],
)
def test_a_typed_card_number_wins_over_the_choice(client, typed, status, shown):
    cs = session(client)
    form = f"choice=4242424242424242&number={typed.replace(' ', '+')}".encode()
    got, _, body = http("POST", cs.url, form)
    assert (got, shown in body) == (status, True)
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"


def test_a_typed_test_card_number_pays(client):
    cs = session(client)
    got, _, _ = http("POST", cs.url, b"choice=4000000000000002&number=5555555555554444")
    assert got == 303
    pi = client.v1.checkout.sessions.retrieve(cs.id).payment_intent
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(pi).latest_charge)
    assert charge.payment_method_details.card.brand == "mastercard"
