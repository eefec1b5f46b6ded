"""The control API under `/_emulator/`: what a test needs that Stripe's API cannot do.

JSON in, JSON out, no API key: the server only answers it from loopback clients. Each call
plays a part Stripe plays on its side (the bank settling a debit, a card holder disputing,
a network hiccup), or inspects what the emulator did (deliveries).
"""

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs

from stripe_emulator import cards
from stripe_emulator.cards import reference
from stripe_emulator.checkout_page import page_choice
from stripe_emulator.clock import CLOCK
from stripe_emulator.errors import StripeAPIError
from stripe_emulator.faults import KINDS
from stripe_emulator.test_clocks import request_time

_ROUTES: list[tuple[str, re.Pattern, Callable]] = []
_LISTED: list[tuple[str, str, Callable]] = []  # (method, path as written, handler): --help


def control(method: str, path: str):
    pattern = re.compile("^/_emulator" + re.sub(r"\{\w+\}", r"([^/]+)", path) + "$")

    def register(handler):
        _ROUTES.append((method, pattern, handler))
        _LISTED.append((method, path, handler))
        return handler

    return register


def help_text() -> str:
    """Every control call with the first line of what it does (`--help`'s last part)."""
    lines = ["control API (JSON, loopback only; docs/emulator.md has the details):"]
    for method, path, handler in _LISTED:
        doc = (handler.__doc__ or handler.__name__.replace("_", " ")).strip().splitlines()[0]
        lines.append(f"  {method:<6} /_emulator{path:<40} {doc}")
    return "\n".join(lines)


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# Browsers send these without asking first (no CORS preflight): a page on any site could
# post a form to the control API. Only JSON (which needs a preflight, never granted here)
# or the custom header below gets through.
CONTROL_HEADER = "X-Emulator-Control"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def loopback_host(value: str | None) -> bool:
    """`Host` or an Origin's host part names this machine's loopback (any port).

    A page whose own name resolves to 127.0.0.1 (DNS rebinding) sends its own name here;
    a browser always sends one, so a request without a `Host` (HTTP/1.0 tools) is served.
    """
    if value is None:
        return True
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value.partition("]")
        name, port = name + "]", rest.removeprefix(":")
    else:
        name, _, port = value.partition(":")
    return name in LOOPBACK_NAMES and (port == "" or port.isdigit())


def cross_site_refusal(method: str, headers) -> tuple[int, str] | None:
    """Why a control request that a web page could have made is refused, or None."""
    origin = headers.get("Origin")
    if origin is not None:
        scheme, _, rest = origin.partition("://")
        if scheme != "http" or not loopback_host(rest.rstrip("/")):
            return 403, "cross-site requests may not use the control API"
    if method in ("POST", "DELETE"):
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json" and not headers.get(CONTROL_HEADER):
            return 415, f"send Content-Type: application/json (or the {CONTROL_HEADER} header)"
    return None


def handle(emulator, method: str, path: str, query: str, body: bytes) -> tuple[int, dict]:
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ControlError(400, "the body must be a JSON object")
    except ValueError:
        return 400, {"error": {"message": "the body must be JSON"}}
    query_params = {k: v[-1] for k, v in parse_qs(query).items()}
    for route_method, pattern, handler in _ROUTES:
        found = pattern.match(path)
        if found and route_method == method:
            try:
                # What the bank or the card holder does to a test clock's customer's
                # payment happens in that clock's time.
                with request_time(emulator.store, found.groups(), data):
                    answer = handler(emulator, *found.groups(), data=data, query=query_params)
                return 200, answer
            except ControlError as exc:
                return exc.status, {"error": {"message": exc.message}}
            except StripeAPIError as exc:
                return exc.status, exc.body()
            except (ValueError, TypeError) as exc:
                return 400, {"error": {"message": str(exc)}}
    return 404, {"error": {"message": f"no control endpoint {method} {path}"}}


def _outcome(data: dict, good: str, bad: str) -> bool:
    outcome = data.get("outcome")
    if outcome not in (good, bad):
        raise ControlError(400, f"outcome must be {good!r} or {bad!r}")
    return outcome == good


def _intent(emulator, object_id: str) -> dict:
    """A PaymentIntent named by its own id or by the Checkout Session that made it."""
    if object_id.startswith("cs_"):
        session = emulator.store.get("checkout.session", object_id)
        object_id = session.get("payment_intent") or ""
    return emulator.store.get("payment_intent", object_id)


# --- state ---------------------------------------------------------------------------------
@control("GET", "/health")
def health(emulator, *, data, query):
    return {"status": "ok"}


@control("POST", "/reset")
def reset(emulator, *, data, query):
    emulator.reset()
    return {"reset": True}


@control("POST", "/clock/advance")
def advance_clock(emulator, *, data, query):
    """`{"seconds": N}`: let N seconds pass at once (timers that fall due act now)."""
    seconds = data.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not seconds >= 0:
        raise ControlError(400, "seconds must be a number of seconds, 0 or more")
    moment = CLOCK.advance(float(seconds))
    return {"now": int(moment), "offset_seconds": CLOCK.offset}


@control("GET", "/clock")
def read_clock(emulator, *, data, query):
    return {"now": int(CLOCK.now()), "offset_seconds": CLOCK.offset}


@control("POST", "/latency")
def latency(emulator, *, data, query):
    """`{"ms": N}`: wait N ms before every API answer from now on (like --latency-ms)."""
    ms = data.get("ms")
    if not isinstance(ms, int | float) or isinstance(ms, bool) or not 0 <= ms <= 60_000:
        raise ControlError(400, "ms must be a number of milliseconds from 0 to 60000")
    emulator.latency_ms = float(ms)
    return {"latency_ms": emulator.latency_ms}


@control("GET", "/webhook_endpoints")
def webhook_endpoints(emulator, *, data, query):
    """Endpoints with their secrets (Stripe shows a secret only once; tests need it again)
    and their failure runs (`failing_since`, `warned_at`: webhook_endpoints.py)."""
    with emulator.store.lock:
        found = emulator.store.of_type("webhook_endpoint")
        return {"data": [emulator.webhooks.endpoints.control_view(e) for e in found]}


@control("GET", "/test_cards")
def test_cards(emulator, *, data, query):
    return {
        "data": [
            {
                "payment_method": pm.id,
                "aliases": list(pm.aliases),
                "tokens": list(pm.tokens),
                "number": pm.number,
                "type": pm.kind,
                "outcome": pm.outcome.value,
                "description": reference.outcome(pm),
                "emulator_only": pm.emulator_only,
            }
            for pm in cards.PAYMENT_METHODS
        ]
    }


# --- payments: what the card holder, the bank or 3-D Secure do ------------------------------
@control("POST", "/payment_intents/{id}/authenticate")
def authenticate(emulator, intent_id, *, data, query):
    with emulator.store.lock:
        intent = _intent(emulator, intent_id)
        emulator.payments.authenticate(intent, _outcome(data, "succeeded", "failed"))
        return emulator.store.render(intent)


@control("POST", "/payment_intents/{id}/settle")
def settle(emulator, intent_id, *, data, query):
    with emulator.store.lock:
        intent = _intent(emulator, intent_id)
        emulator.payments.settle(intent, _outcome(data, "succeeded", "failed"))
        return emulator.store.render(intent)


@control("POST", "/disputes")
def open_dispute(emulator, *, data, query):
    payment = data.get("payment")
    if not isinstance(payment, str):
        raise ControlError(400, "payment: a charge, PaymentIntent or Checkout Session id")
    due_by = data.get("evidence_due_by")
    if due_by is not None and (not isinstance(due_by, int) or isinstance(due_by, bool)):
        raise ControlError(400, "evidence_due_by: a Unix timestamp")
    with emulator.store.lock:
        charge = emulator.payments.charge_of(payment)
        dispute = emulator.payments.open_dispute(
            charge,
            reason=data.get("reason", "fraudulent"),
            amount=data.get("amount"),
            inquiry=data.get("inquiry") is True,
            due_by=due_by,
        )
        return emulator.store.render(dispute)


@control("POST", "/disputes/{id}/resolve")
def resolve_dispute(emulator, dispute_id, *, data, query):
    with emulator.store.lock:
        dispute = emulator.store.get("dispute", dispute_id)
        emulator.payments.resolve_dispute(dispute, _outcome(data, "won", "lost"))
        return emulator.store.render(dispute)


@control("POST", "/refunds/{id}/settle")
def settle_refund(emulator, refund_id, *, data, query):
    """A pending refund (of a bank debit) is paid out, or fails."""
    with emulator.store.lock:
        refund = emulator.store.get("refund", refund_id)
        if _outcome(data, "succeeded", "failed"):
            emulator.payments.settle_refund(refund)
        else:
            emulator.payments.fail_refund(refund, data.get("reason", "declined"))
        return emulator.store.render(refund)


@control("POST", "/refunds/{id}/fail")
def fail_refund(emulator, refund_id, *, data, query):
    with emulator.store.lock:
        refund = emulator.store.get("refund", refund_id)
        emulator.payments.fail_refund(refund, data.get("reason", "expired_or_canceled_card"))
        return emulator.store.render(refund)


@control("POST", "/checkout_sessions/{id}/expire")
def expire_session(emulator, session_id, *, data, query):
    with emulator.store.lock:
        session = emulator.store.get("checkout.session", session_id)
        emulator.checkout.expire(session)
        return emulator.store.render(session)


@control("POST", "/checkout_sessions/{id}/pay")
def pay_session(emulator, session_id, *, data, query):
    """What the hosted page's form does, for tests that do not want to post HTML forms."""
    choice = str(data.get("card", "4242424242424242"))
    pm = cards.BY_CHOICE.get(choice) or cards.BY_ID.get(choice)
    if pm is None:
        raise ControlError(400, f"unknown test card {choice!r}")
    with emulator.store.lock:
        session = emulator.store.get("checkout.session", session_id)
        try:
            pm_id = choice if choice in cards.BY_ID else page_choice(emulator, pm)
            emulator.checkout.pay(session, pm_id)
        except StripeAPIError as exc:
            if exc.type != "card_error":
                raise
        return {
            "session": emulator.store.render(session),
            "payment_intent": emulator.store.render(_intent(emulator, session_id)),
            "redirect": emulator.checkout.success_url(session)
            if session["status"] == "complete"
            else None,
        }


# --- faults ---------------------------------------------------------------------------------
@control("POST", "/faults")
def add_fault(emulator, *, data, query):
    kind = str(data.get("kind", ""))
    if kind not in KINDS:
        raise ControlError(400, f"kind must be one of {', '.join(KINDS)}")
    emulator.faults.add(
        kind,
        int(data.get("count", 1)),
        when=data.get("when", "before"),
        path_prefix=data.get("path_prefix", "/v1/"),
        hang=data.get("hang_seconds"),
    )
    return {"faults": emulator.faults.armed()}


@control("GET", "/faults")
def list_faults(emulator, *, data, query):
    return {"faults": emulator.faults.armed()}


@control("DELETE", "/faults")
def clear_faults(emulator, *, data, query):
    emulator.faults.clear()
    return {"faults": []}


# --- webhook delivery -------------------------------------------------------------------------
@control("GET", "/webhooks")
def webhook_status(emulator, *, data, query):
    return emulator.webhooks.status()


@control("POST", "/webhooks/modes")
def set_webhook_mode(emulator, *, data, query):
    count = data.get("count")
    emulator.webhooks.set_mode(
        str(data.get("mode", "")),
        count=None if count is None else int(count),
        seconds=float(data.get("seconds", 0)),
        batch=int(data.get("batch", 2)),
    )
    return emulator.webhooks.status()


@control("DELETE", "/webhooks/modes")
def clear_webhook_modes(emulator, *, data, query):
    emulator.webhooks.clear_mode(query.get("mode"))
    return emulator.webhooks.status()


@control("POST", "/webhooks/pause")
def pause_webhooks(emulator, *, data, query):
    emulator.webhooks.pause()
    return emulator.webhooks.status()


@control("POST", "/webhooks/resume")
def resume_webhooks(emulator, *, data, query):
    emulator.webhooks.resume()
    return emulator.webhooks.status()


@control("POST", "/webhooks/flush")
def flush_webhooks(emulator, *, data, query):
    emulator.webhooks.flush()
    return emulator.webhooks.status()


@control("GET", "/deliveries")
def deliveries(emulator, *, data, query):
    return {"data": emulator.webhooks.deliveries(query.get("event_id"))}
