"""Accepting Stripe's events: verify, store once, queue. Nothing slow, no Stripe call."""

import json
import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import connections, router

from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


class RejectedEvent(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def verify_signature(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """Check `Stripe-Signature` against every configured secret (several during rotation)."""
    if not header:
        raise RejectedEvent("missing_signature", "The Stripe-Signature header is missing.")
    if not secrets:
        raise RejectedEvent("invalid_signature", "No webhook secret is configured.")
    text = payload.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                text, header, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
            )
            return
        except stripe.SignatureVerificationError:
            continue
    raise RejectedEvent(
        "invalid_signature", "The signature does not match, or its timestamp is too old."
    )


def parse_event(payload: bytes) -> dict:
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RejectedEvent("invalid_payload", "The body is not JSON.") from exc
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise RejectedEvent("invalid_payload", "The body is not a Stripe event.")
    return event


def _order_id(obj: dict) -> int | None:
    metadata = obj.get("metadata") or {}
    raw = metadata.get("order_id") or obj.get("client_reference_id")
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _payment_intent_id(obj: dict) -> str:
    if obj.get("object") == "payment_intent":
        return obj.get("id") or ""
    value = obj.get("payment_intent")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def store_event(
    event: dict, *, source: str = WebhookEvent.Source.WEBHOOK
) -> tuple[WebhookEvent, bool]:
    """Insert the event keyed by Stripe's id; (row, False) when it is a duplicate.

    One statement, `INSERT ... ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id`: no
    BEGIN/COMMIT round trips around it (autocommit), no savepoint and no IntegrityError
    for a duplicate delivery, and inside a caller's transaction it cannot abort it.
    """
    obj = event["data"]["object"]
    created = event.get("created")
    row = WebhookEvent(
        stripe_event_id=event["id"],
        type=event["type"][:128],
        livemode=bool(event.get("livemode")),
        api_version=str(event.get("api_version") or "")[:64],
        stripe_created=(
            datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else None
        ),
        payload=event,
        source=source,
        order_id=_order_id(obj),
        payment_intent_id=_payment_intent_id(obj)[:255],
    )
    connection = connections[router.db_for_write(WebhookEvent)]
    fields = [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    # Identifiers come from the model's metadata; every value is a query parameter.
    sql = (
        f"INSERT INTO {quote(WebhookEvent._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('stripe_event_id')}) DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        inserted = cursor.fetchone()
    if inserted is None:
        return WebhookEvent.objects.only("pk", "status").get(stripe_event_id=event["id"]), False
    row.pk = inserted[0]
    row._state.adding = False
    row._state.db = connection.alias
    return row, True


def enqueue(event_pk: int, countdown: float | None = None) -> None:
    """Queue processing; if the broker is down the sweep picks the event up later."""
    from payments.tasks import process_webhook_event

    try:
        process_webhook_event.apply_async((event_pk,), countdown=countdown, retry=False)
    except Exception as exc:  # broker unreachable: the row is safe, the sweep will queue it
        logger.warning(
            "webhook event %s stored but not queued (%s); the sweep will retry",
            event_pk,
            type(exc).__name__,
        )
