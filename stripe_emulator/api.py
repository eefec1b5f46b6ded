"""The `/v1/` API: authentication, idempotency, parameter checks, and the endpoint table
(filled by `stripe_emulator.endpoints` and `.event_endpoints`, one function per Stripe
operation).

A request goes: injected fault? → API key → decode the form → endpoint → idempotency
(replay, or 400 for a key used on another endpoint or with other parameters; keys lapse
after 24 hours: stripe_emulator/idempotency.py) → parameters checked against the SDK's
TypedDict → the handler, under the store's lock → answer stored for its Idempotency-Key.
As at Stripe, a request refused by parameter validation stores nothing, while an answer
from a request that ran (including a card decline) is replayed for the same key.
"""

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from stripe_emulator import idempotency
from stripe_emulator.errors import StripeAPIError, missing_resource
from stripe_emulator.formdata import decode
from stripe_emulator.state import RequestContext, new_id
from stripe_emulator.test_clocks import request_time
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
        ctx = RequestContext(request_id, idempotency_key, client_side=kind == "publishable")
        with emulator.store.lock:
            if idempotency_key:
                stored = idempotency.find(emulator.store, api_key, idempotency_key, path, raw)
                if stored is not None:
                    return _replay(stored, idempotency_key, base_headers)
            params = validate(raw, endpoint.params)
            try:
                with request_time(emulator.store, ids, params):  # a test clock's customer
                    answer = endpoint.handler(emulator, *ids, params=params, ctx=ctx)
                status = 200
            except StripeAPIError as exc:
                if not idempotency_key or exc.status >= 500:
                    raise
                status, answer = exc.status, exc.body()
            if idempotency_key:
                idempotency.remember(
                    emulator.store, api_key, idempotency_key, path, raw, status, answer, request_id
                )
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


def _replay(stored: idempotency.Stored, key: str, headers: dict) -> Response:
    return Response(
        stored.status,
        json.loads(stored.answer),
        {
            **headers,
            "Idempotency-Key": key,
            "Idempotent-Replayed": "true",
            "Original-Request": stored.request_id,
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


def render(emulator, obj: dict, params: dict) -> dict:
    return emulator.store.render(obj, params.get("expand"))


def list_page(emulator, object_type: str, params: dict, url: str, **filters) -> dict:
    items = [
        o
        for o in emulator.store.of_type(object_type)
        if all(value is None or o.get(name) == value for name, value in filters.items())
    ]
    return emulator.store.page(items, params, url)
