"""The endpoints of the `/v1/` API, one function per Stripe operation, in Stripe's API
reference order. Each is registered in `stripe_emulator.api`'s table by `@route` with the
SDK's parameter type it is checked against; each runs under the store's lock. Events and
webhook endpoints are in event_endpoints.py.
"""

import stripe.params as sp
from stripe.params import checkout as sp_checkout

from stripe_emulator import rules
from stripe_emulator.api import list_page, render, route


# --- the account ---------------------------------------------------------------------------
@route("GET", "/v1/account", sp.AccountRetrieveCurrentParams)
def retrieve_account(emulator, *, params, ctx):
    return emulator.store.render(emulator.account, params.get("expand"))


# --- customers ----------------------------------------------------------------------------
@route("POST", "/v1/customers", sp.CustomerCreateParams)
def create_customer(emulator, *, params, ctx):
    rules.check_email(params, "email")
    customer = emulator.customers.create(params)
    emulator.store.emit("customer.created", customer, ctx)
    return render(emulator, customer, params)


@route("GET", "/v1/customers/{id}", sp.CustomerRetrieveParams)
def retrieve_customer(emulator, customer_id, *, params, ctx):
    return render(emulator, emulator.store.get("customer", customer_id), params)


@route("POST", "/v1/customers/{id}", sp.CustomerUpdateParams)
def update_customer(emulator, customer_id, *, params, ctx):
    rules.check_email(params, "email")
    customer = emulator.customers.update(emulator.store.get("customer", customer_id), params)
    emulator.store.emit("customer.updated", customer, ctx)
    return render(emulator, customer, params)


@route("GET", "/v1/customers", sp.CustomerListParams)
def list_customers(emulator, *, params, ctx):
    return list_page(emulator, "customer", params, "/v1/customers", email=params.get("email"))


# --- PaymentIntents ---------------------------------------------------------------------------
@route("POST", "/v1/payment_intents", sp.PaymentIntentCreateParams)
def create_payment_intent(emulator, *, params, ctx):
    intent = emulator.payments.create_intent(params, ctx)
    return render(emulator, intent, params)


@route("GET", "/v1/payment_intents/{id}", sp.PaymentIntentRetrieveParams, publishable=True)
def retrieve_payment_intent(emulator, intent_id, *, params, ctx):
    return render(emulator, emulator.store.get("payment_intent", intent_id), params)


@route("POST", "/v1/payment_intents/{id}", sp.PaymentIntentUpdateParams)
def update_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return render(emulator, emulator.payments.update_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/confirm", sp.PaymentIntentConfirmParams, publishable=True)
def confirm_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return render(emulator, emulator.payments.confirm_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/cancel", sp.PaymentIntentCancelParams)
def cancel_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return render(emulator, emulator.payments.cancel_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/capture", sp.PaymentIntentCaptureParams)
def capture_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return render(emulator, emulator.payments.capture_intent(intent, params, ctx), params)


@route("GET", "/v1/payment_intents", sp.PaymentIntentListParams)
def list_payment_intents(emulator, *, params, ctx):
    return list_page(
        emulator, "payment_intent", params, "/v1/payment_intents", customer=params.get("customer")
    )


# --- Checkout Sessions ------------------------------------------------------------------------
@route("POST", "/v1/checkout/sessions", sp_checkout.SessionCreateParams)
def create_checkout_session(emulator, *, params, ctx):
    return render(emulator, emulator.checkout.create(params, ctx), params)


@route("GET", "/v1/checkout/sessions/{id}", sp_checkout.SessionRetrieveParams)
def retrieve_checkout_session(emulator, session_id, *, params, ctx):
    return render(emulator, emulator.store.get("checkout.session", session_id), params)


@route("POST", "/v1/checkout/sessions/{id}/expire", sp_checkout.SessionExpireParams)
def expire_checkout_session(emulator, session_id, *, params, ctx):
    session = emulator.store.get("checkout.session", session_id)
    return render(emulator, emulator.checkout.expire(session, ctx), params)


@route("GET", "/v1/checkout/sessions/{id}/line_items", sp_checkout.SessionListLineItemsParams)
def list_checkout_line_items(emulator, session_id, *, params, ctx):
    session = emulator.store.get("checkout.session", session_id)
    return emulator.checkout.list_line_items(session, params)


@route("GET", "/v1/checkout/sessions", sp_checkout.SessionListParams)
def list_checkout_sessions(emulator, *, params, ctx):
    return list_page(
        emulator,
        "checkout.session",
        params,
        "/v1/checkout/sessions",
        payment_intent=params.get("payment_intent"),
        status=params.get("status"),
        customer=params.get("customer"),
    )


# --- Charges --------------------------------------------------------------------------------
@route("GET", "/v1/charges/{id}", sp.ChargeRetrieveParams)
def retrieve_charge(emulator, charge_id, *, params, ctx):
    return render(emulator, emulator.store.get("charge", charge_id), params)


@route("GET", "/v1/charges", sp.ChargeListParams)
def list_charges(emulator, *, params, ctx):
    return list_page(
        emulator,
        "charge",
        params,
        "/v1/charges",
        payment_intent=params.get("payment_intent"),
        customer=params.get("customer"),
    )


# --- PaymentMethods (the test ones, and those made from a test token or bank account) ---------
@route("POST", "/v1/payment_methods", sp.PaymentMethodCreateParams)
def create_payment_method(emulator, *, params, ctx):
    return render(emulator, emulator.payments.create_payment_method(params), params)


@route("GET", "/v1/payment_methods/{id}", sp.PaymentMethodRetrieveParams)
def retrieve_payment_method(emulator, payment_method_id, *, params, ctx):
    return render(emulator, emulator.payments.payment_method_object(payment_method_id), params)


# --- Refunds --------------------------------------------------------------------------------
@route("POST", "/v1/refunds", sp.RefundCreateParams)
def create_refund(emulator, *, params, ctx):
    return render(emulator, emulator.payments.create_refund(params, ctx), params)


@route("GET", "/v1/refunds/{id}", sp.RefundRetrieveParams)
def retrieve_refund(emulator, refund_id, *, params, ctx):
    return render(emulator, emulator.store.get("refund", refund_id), params)


@route("GET", "/v1/refunds", sp.RefundListParams)
def list_refunds(emulator, *, params, ctx):
    return list_page(
        emulator,
        "refund",
        params,
        "/v1/refunds",
        payment_intent=params.get("payment_intent"),
        charge=params.get("charge"),
    )


# --- Disputes -------------------------------------------------------------------------------
@route("GET", "/v1/disputes/{id}", sp.DisputeRetrieveParams)
def retrieve_dispute(emulator, dispute_id, *, params, ctx):
    return render(emulator, emulator.store.get("dispute", dispute_id), params)


@route("POST", "/v1/disputes/{id}", sp.DisputeUpdateParams)
def update_dispute(emulator, dispute_id, *, params, ctx):
    dispute = emulator.store.get("dispute", dispute_id)
    return render(emulator, emulator.payments.update_dispute(dispute, params, ctx), params)


@route("POST", "/v1/disputes/{id}/close", sp.DisputeCloseParams)
def close_dispute(emulator, dispute_id, *, params, ctx):
    dispute = emulator.store.get("dispute", dispute_id)
    return render(emulator, emulator.payments.close_dispute(dispute, ctx), params)


@route("GET", "/v1/disputes", sp.DisputeListParams)
def list_disputes(emulator, *, params, ctx):
    return list_page(
        emulator,
        "dispute",
        params,
        "/v1/disputes",
        payment_intent=params.get("payment_intent"),
        charge=params.get("charge"),
    )


# --- Balance transactions --------------------------------------------------------------------
@route("GET", "/v1/balance_transactions/{id}", sp.BalanceTransactionRetrieveParams)
def retrieve_balance_transaction(emulator, transaction_id, *, params, ctx):
    return render(emulator, emulator.store.get("balance_transaction", transaction_id), params)


@route("GET", "/v1/balance_transactions", sp.BalanceTransactionListParams)
def list_balance_transactions(emulator, *, params, ctx):
    if params.get("payout"):  # the emulator makes no payouts: no transaction was paid out
        return emulator.store.page([], params, "/v1/balance_transactions")
    return list_page(
        emulator,
        "balance_transaction",
        params,
        "/v1/balance_transactions",
        currency=params.get("currency", "").lower() or None,
        source=params.get("source"),
        type=params.get("type"),
    )
