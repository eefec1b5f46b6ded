"""Is a delivery Stripe's event? The signature over the exact bytes received, then the
body parsed as an event (NUL characters escaped, see payments.webhooks.nul_characters)."""

import time

import stripe
from django.conf import settings

from core import json_input
from payments.webhooks import nul_characters


class RejectedEvent(Exception):
    """A delivery refused with 400. `signed`: it carried a valid signature (so Stripe sent
    it, and refusing it loses an event until Stripe's retries give up: staff are alerted)."""

    def __init__(self, code: str, message: str, *, signed: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.signed = signed


# Longest values the inbox's columns hold (WebhookEvent.stripe_event_id, .type). Stripe's
# own are far shorter; a longer one is refused rather than cut (a cut id is another id).
MAX_EVENT_ID_LENGTH = 255
MAX_EVENT_TYPE_LENGTH = 128


def verify_signature(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """Check `Stripe-Signature` over exactly the bytes received, with every configured
    secret (several during a rotation), and refuse a timestamp too old or too far ahead.

    The SDK signs text; the body is decoded strictly, which is lossless, so the text it
    checks is exactly those bytes. (Decoding with replacement characters would let a
    signature over U+FFFD stand for any bytes that are not UTF-8.)
    """
    if not header:
        raise RejectedEvent("missing_signature", "The Stripe-Signature header is missing.")
    if not secrets:
        raise RejectedEvent("invalid_signature", "No webhook secret is configured.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedEvent("invalid_payload", "The body is not valid UTF-8.") from None
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance=tolerance)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise RejectedEvent(
            "invalid_signature", "The signature does not match, or its timestamp is too old."
        )
    # The SDK only refuses timestamps from the past; a signature dated ahead would stay
    # replayable until that time comes.
    if _signed_at(header) > time.time() + tolerance:
        raise RejectedEvent(
            "invalid_signature", "The signature's timestamp is too far in the future."
        )


def _signed_at(header: str) -> int:
    """The `t=` of a header the SDK accepted (so there is one, and it is an integer)."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value)
    return 0


def parse_event(payload: bytes) -> dict:
    """The Stripe event in a verified body, NUL characters escaped (payments.nul_characters).

    JSON that cannot be parsed or is not an event is `invalid_payload`; JSON nested too
    deeply or holding numbers out of range is `malformed_json`, as on every endpoint.
    """
    try:
        event = json_input.loads(payload, allow_nul=True)
    except json_input.MalformedJSON as exc:
        code = "invalid_payload" if exc.kind in ("syntax", "encoding") else "malformed_json"
        raise RejectedEvent(code, str(exc), signed=True) from exc
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise RejectedEvent("invalid_payload", "The body is not a Stripe event.", signed=True)
    if len(event["id"]) > MAX_EVENT_ID_LENGTH or len(event["type"]) > MAX_EVENT_TYPE_LENGTH:
        raise RejectedEvent(
            "invalid_payload",
            f"The event id or type is longer than {MAX_EVENT_ID_LENGTH} or "
            f"{MAX_EVENT_TYPE_LENGTH} characters.",
            signed=True,
        )
    if b"\\u0000" in payload:  # only then can a string hold a NUL (JSON escapes it)
        try:
            event = nul_characters.escape(event)
        except nul_characters.CannotEscape as exc:
            raise RejectedEvent(
                "invalid_payload", "The event's keys collide.", signed=True
            ) from exc
    return event
