"""The `/v1/` API: authentication, idempotency, parameter checks, and the endpoint table.

A request goes: injected fault? → API key → decode the form → endpoint → idempotency
(replay / mismatch) → parameters checked against the SDK's TypedDict → the handler, under
the store's lock → answer stored for its Idempotency-Key. As at Stripe, a request refused
by parameter validation stores nothing, while an answer from a request that ran (including
a card decline) is replayed for the same key.
"""

import base64
import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import stripe.params as sp
from stripe.params import checkout as sp_checkout

from stripe_emulator import cards
from stripe_emulator.errors import StripeAPIError, invalid, missing_resource
from stripe_emulator.formdata import decode
from stripe_emulator.state import RequestContext, new_id
from stripe_emulator.validation import validate


@dataclass
class Response:
    status: int
    body: dict | None
    headers: dict = field(default_factory=dict)
    hang_seconds: float = 0.0  # an injected timeout: hang, then close without answering


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    params: type | None
    handler: Callable
    publishable: bool  # also reachable with a publishable key plus the client_secret


ROUTES: list[Route] = []


def route(method: str, path: str, params: type | None, *, publishable: bool = False):
    pattern = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", path) + "$")

    def register(handler):
        ROUTES.append(Route(method, pattern, params, handler, publishable))
        return handler

    return register


# --- authentication --------------------------------------------------------------------
def _auth_error(message: str) -> StripeAPIError:
    return StripeAPIError(401, message)


def api_key_of(headers, params: dict) -> str:
    header = headers.get("Authorization") or ""
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    if scheme.lower() == "basic" and key.strip():  # `curl -u sk_test_...:` as Stripe's docs do
        try:
            return base64.b64decode(key.strip()).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            pass
    if isinstance(params.get("key"), str):  # Stripe.js sends the publishable key as `key`
        return params["key"]
    raise _auth_error(
        "You did not provide an API key. You need to provide your API key in the "
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
    )


def key_kind(api_key: str) -> str:
    if api_key.startswith(("sk_live_", "rk_live_", "pk_live_")):
        raise _auth_error(
            "This is an offline Stripe emulator: it refuses live mode keys. Use a test key."
        )
    if api_key.startswith(("sk_test_", "rk_test_")) and len(api_key) > 8:
        return "secret"
    if api_key.startswith("pk_test_") and len(api_key) > 8:
        return "publishable"
    raise _auth_error("Invalid API Key provided: the emulator expects sk_test_... keys.")


# --- the request pipeline --------------------------------------------------------------
def handle(emulator, method: str, path: str, query: str, body: bytes, headers) -> Response:
    request_id = new_id("req", 14)
    base_headers = {"Request-Id": request_id}
    if headers.get("Stripe-Version"):
        base_headers["Stripe-Version"] = headers["Stripe-Version"]
    fault = emulator.faults.take(path, "before")
    if fault is not None:
        return _fault_response(fault, base_headers)
    try:
        raw = decode(query if method in ("GET", "DELETE") else body.decode("utf-8"))
        api_key = api_key_of(headers, raw)
        kind = key_kind(api_key)
        found = _match(method, path)
        if found is None:
            raise StripeAPIError(
                404, f"Unrecognized request URL ({method}: {path}).", code=None, param=None
            )
        endpoint, ids = found
        if kind == "publishable":
            raw = _publishable_access(emulator, endpoint, ids, raw)
        idempotency_key = headers.get("Idempotency-Key") if method == "POST" else None
        ctx = RequestContext(request_id, idempotency_key)
        with emulator.store.lock:
            scope = (api_key, path, idempotency_key)
            if idempotency_key:
                stored = emulator.store.idempotency.get(scope)
                if stored is not None:
                    return _replay(stored, raw, idempotency_key, base_headers)
            params = validate(raw, endpoint.params)
            try:
                status, answer = 200, endpoint.handler(emulator, *ids, params=params, ctx=ctx)
            except StripeAPIError as exc:
                if not idempotency_key or exc.status >= 500:
                    raise
                status, answer = exc.status, exc.body()
            if idempotency_key:
                emulator.store.idempotency[scope] = (raw, status, json.dumps(answer), request_id)
    except StripeAPIError as exc:
        return Response(exc.status, exc.body(), base_headers)
    headers_out = dict(base_headers)
    if idempotency_key:
        headers_out["Idempotency-Key"] = idempotency_key
    fault = emulator.faults.take(path, "after")
    if fault is not None:
        return _fault_response(fault, base_headers)
    return Response(status, answer, headers_out)


def _fault_response(fault, headers) -> Response:
    if fault.kind == "timeout":
        return Response(0, None, headers, hang_seconds=fault.hang_seconds)
    error = fault.error()
    # No Stripe-Should-Retry header: the SDK's own rules then apply (a 500 is retried, a
    # 429 is not), so a test sees what the configured max_network_retries makes of it.
    return Response(error.status, error.body(), headers)


def _replay(stored, raw: dict, key: str, headers: dict) -> Response:
    first_params, status, answer, original_request = stored
    if first_params != raw:
        raise StripeAPIError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type_="idempotency_error",
        )
    return Response(
        status,
        json.loads(answer),
        {
            **headers,
            "Idempotency-Key": key,
            "Idempotent-Replayed": "true",
            "Original-Request": original_request,
        },
    )


def _match(method: str, path: str):
    for endpoint in ROUTES:
        if endpoint.method == method:
            found = endpoint.pattern.match(path)
            if found:
                return endpoint, found.groups()
    return None


def _publishable_access(emulator, endpoint: Route, ids, raw: dict) -> dict:
    """What Stripe.js may do: read or confirm one PaymentIntent whose client_secret it has."""
    if not endpoint.publishable:
        raise StripeAPIError(
            403,
            "This API call cannot be made with a publishable API key. Please use a secret API key.",
            code="secret_key_required",
        )
    raw = {k: v for k, v in raw.items() if k != "key"}
    secret = raw.pop("client_secret", None)
    with emulator.store.lock:
        intent = emulator.store.find("payment_intent", ids[0])
    if intent is None or secret != intent["client_secret"]:
        raise missing_resource("payment_intent", ids[0])
    return raw


def _render(emulator, obj: dict, params: dict) -> dict:
    return emulator.store.render(obj, params.get("expand"))


def _list(emulator, object_type: str, params: dict, url: str, **filters) -> dict:
    items = [
        o
        for o in emulator.store.of_type(object_type)
        if all(value is None or o.get(name) == value for name, value in filters.items())
    ]
    return emulator.store.page(items, params, url)


# --- the account ---------------------------------------------------------------------------
@route("GET", "/v1/account", sp.AccountRetrieveCurrentParams)
def retrieve_account(emulator, *, params, ctx):
    return emulator.store.render(emulator.account, params.get("expand"))


# --- customers ----------------------------------------------------------------------------
@route("POST", "/v1/customers", sp.CustomerCreateParams)
def create_customer(emulator, *, params, ctx):
    customer = emulator.customers.create(params)
    emulator.store.emit("customer.created", customer, ctx)
    return _render(emulator, customer, params)


@route("GET", "/v1/customers/{id}", sp.CustomerRetrieveParams)
def retrieve_customer(emulator, customer_id, *, params, ctx):
    return _render(emulator, emulator.store.get("customer", customer_id), params)


@route("POST", "/v1/customers/{id}", sp.CustomerUpdateParams)
def update_customer(emulator, customer_id, *, params, ctx):
    customer = emulator.customers.update(emulator.store.get("customer", customer_id), params)
    emulator.store.emit("customer.updated", customer, ctx)
    return _render(emulator, customer, params)


@route("GET", "/v1/customers", sp.CustomerListParams)
def list_customers(emulator, *, params, ctx):
    return _list(emulator, "customer", params, "/v1/customers", email=params.get("email"))


# --- PaymentIntents ---------------------------------------------------------------------------
@route("POST", "/v1/payment_intents", sp.PaymentIntentCreateParams)
def create_payment_intent(emulator, *, params, ctx):
    intent = emulator.payments.create_intent(params, ctx)
    return _render(emulator, intent, params)


@route("GET", "/v1/payment_intents/{id}", sp.PaymentIntentRetrieveParams, publishable=True)
def retrieve_payment_intent(emulator, intent_id, *, params, ctx):
    return _render(emulator, emulator.store.get("payment_intent", intent_id), params)


@route("POST", "/v1/payment_intents/{id}", sp.PaymentIntentUpdateParams)
def update_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return _render(emulator, emulator.payments.update_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/confirm", sp.PaymentIntentConfirmParams, publishable=True)
def confirm_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return _render(emulator, emulator.payments.confirm_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/cancel", sp.PaymentIntentCancelParams)
def cancel_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return _render(emulator, emulator.payments.cancel_intent(intent, params, ctx), params)


@route("POST", "/v1/payment_intents/{id}/capture", sp.PaymentIntentCaptureParams)
def capture_payment_intent(emulator, intent_id, *, params, ctx):
    intent = emulator.store.get("payment_intent", intent_id)
    return _render(emulator, emulator.payments.capture_intent(intent, params, ctx), params)


@route("GET", "/v1/payment_intents", sp.PaymentIntentListParams)
def list_payment_intents(emulator, *, params, ctx):
    return _list(
        emulator, "payment_intent", params, "/v1/payment_intents", customer=params.get("customer")
    )


# --- Checkout Sessions ------------------------------------------------------------------------
@route("POST", "/v1/checkout/sessions", sp_checkout.SessionCreateParams)
def create_checkout_session(emulator, *, params, ctx):
    return _render(emulator, emulator.checkout.create(params, ctx), params)


@route("GET", "/v1/checkout/sessions/{id}", sp_checkout.SessionRetrieveParams)
def retrieve_checkout_session(emulator, session_id, *, params, ctx):
    return _render(emulator, emulator.store.get("checkout.session", session_id), params)


@route("POST", "/v1/checkout/sessions/{id}/expire", sp_checkout.SessionExpireParams)
def expire_checkout_session(emulator, session_id, *, params, ctx):
    session = emulator.store.get("checkout.session", session_id)
    return _render(emulator, emulator.checkout.expire(session, ctx), params)


@route("GET", "/v1/checkout/sessions/{id}/line_items", sp_checkout.SessionListLineItemsParams)
def list_checkout_line_items(emulator, session_id, *, params, ctx):
    session = emulator.store.get("checkout.session", session_id)
    return emulator.checkout.list_line_items(session, params)


@route("GET", "/v1/checkout/sessions", sp_checkout.SessionListParams)
def list_checkout_sessions(emulator, *, params, ctx):
    return _list(
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
    return _render(emulator, emulator.store.get("charge", charge_id), params)


@route("GET", "/v1/charges", sp.ChargeListParams)
def list_charges(emulator, *, params, ctx):
    return _list(
        emulator,
        "charge",
        params,
        "/v1/charges",
        payment_intent=params.get("payment_intent"),
        customer=params.get("customer"),
    )


# --- PaymentMethods (the test ones) -------------------------------------------------------------
@route("GET", "/v1/payment_methods/{id}", sp.PaymentMethodRetrieveParams)
def retrieve_payment_method(emulator, payment_method_id, *, params, ctx):
    return _render(emulator, cards.as_object(cards.payment_method(payment_method_id, "id")), params)


# --- Refunds --------------------------------------------------------------------------------
@route("POST", "/v1/refunds", sp.RefundCreateParams)
def create_refund(emulator, *, params, ctx):
    return _render(emulator, emulator.payments.create_refund(params, ctx), params)


@route("GET", "/v1/refunds/{id}", sp.RefundRetrieveParams)
def retrieve_refund(emulator, refund_id, *, params, ctx):
    return _render(emulator, emulator.store.get("refund", refund_id), params)


@route("GET", "/v1/refunds", sp.RefundListParams)
def list_refunds(emulator, *, params, ctx):
    return _list(
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
    return _render(emulator, emulator.store.get("dispute", dispute_id), params)


@route("POST", "/v1/disputes/{id}", sp.DisputeUpdateParams)
def update_dispute(emulator, dispute_id, *, params, ctx):
    dispute = emulator.store.get("dispute", dispute_id)
    return _render(emulator, emulator.payments.update_dispute(dispute, params, ctx), params)


@route("POST", "/v1/disputes/{id}/close", sp.DisputeCloseParams)
def close_dispute(emulator, dispute_id, *, params, ctx):
    dispute = emulator.store.get("dispute", dispute_id)
    return _render(emulator, emulator.payments.close_dispute(dispute, ctx), params)


@route("GET", "/v1/disputes", sp.DisputeListParams)
def list_disputes(emulator, *, params, ctx):
    return _list(
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
    return _render(emulator, emulator.store.get("balance_transaction", transaction_id), params)


@route("GET", "/v1/balance_transactions", sp.BalanceTransactionListParams)
def list_balance_transactions(emulator, *, params, ctx):
    if params.get("payout"):  # the emulator makes no payouts: no transaction was paid out
        return emulator.store.page([], params, "/v1/balance_transactions")
    return _list(
        emulator,
        "balance_transaction",
        params,
        "/v1/balance_transactions",
        currency=params.get("currency", "").lower() or None,
        source=params.get("source"),
        type=params.get("type"),
    )


# --- Events -------------------------------------------------------------------------------
@route("GET", "/v1/events/{id}", sp.EventRetrieveParams)
def retrieve_event(emulator, event_id, *, params, ctx):
    return _render(emulator, emulator.store.get("event", event_id), params)


@route("GET", "/v1/events", sp.EventListParams)
def list_events(emulator, *, params, ctx):
    if params.get("type") and params.get("types"):
        raise invalid(
            "You may pass either `type` or `types`, not both.",
            code="parameters_exclusive",
            param="types",
        )
    if len(params.get("types") or []) > 20:
        raise invalid(
            "You may pass at most 20 event types in `types`.",
            code="parameter_invalid",
            param="types",
        )
    patterns = [params["type"]] if params.get("type") else params.get("types") or ["*"]

    def wanted(event: dict) -> bool:
        if not any(fnmatch.fnmatchcase(event["type"], p) for p in patterns):
            return False
        if "delivery_success" in params:
            return emulator.webhooks.delivery_succeeded(event) == params["delivery_success"]
        return True

    events = [e for e in emulator.store.of_type("event") if wanted(e)]
    return emulator.store.page(events, params, "/v1/events")


# --- Webhook endpoints --------------------------------------------------------------------
@route("POST", "/v1/webhook_endpoints", sp.WebhookEndpointCreateParams)
def create_webhook_endpoint(emulator, *, params, ctx):
    return emulator.webhooks.create_endpoint(
        params["url"],
        params["enabled_events"],
        api_version=params.get("api_version"),
        description=params.get("description"),
        metadata=params.get("metadata"),
    )


@route("GET", "/v1/webhook_endpoints/{id}", sp.WebhookEndpointRetrieveParams)
def retrieve_webhook_endpoint(emulator, endpoint_id, *, params, ctx):
    return _render(emulator, emulator.store.get("webhook_endpoint", endpoint_id), params)


@route("GET", "/v1/webhook_endpoints", sp.WebhookEndpointListParams)
def list_webhook_endpoints(emulator, *, params, ctx):
    return _list(emulator, "webhook_endpoint", params, "/v1/webhook_endpoints")


@route("DELETE", "/v1/webhook_endpoints/{id}", sp.WebhookEndpointDeleteParams)
def delete_webhook_endpoint(emulator, endpoint_id, *, params, ctx):
    emulator.store.get("webhook_endpoint", endpoint_id)
    del emulator.store.objects[endpoint_id]
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
