"""The emulator's account, balance transactions, payment methods and events: what
dj-stripe's mirror fetches."""

import time

import pytest
import stripe

from tests.stripe_emulator.helpers import CARD, RETURN_URL, intent, paid_intent


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
    pi = intent(client, payment_method="pm_usBankAccount_success", confirm=True)
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
    debit = client.v1.payment_methods.retrieve("pm_usBankAccount_success")
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
    from stripe_emulator import server  # noqa: F401 (its imports fill the table)
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
        params={
            "amount": 1230,
            "currency": "kwd",
            "payment_method": CARD,
            "confirm": True,
            "return_url": RETURN_URL,
        }
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
