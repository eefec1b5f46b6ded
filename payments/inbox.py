"""Accepting Stripe's events: verify, store once, queue. Nothing slow, no Stripe call."""

import logging
import time
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone

from audit.services import record
from core import json_input, redis_client
from observability import metrics
from payments import nul_characters
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


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
# Stripe's `created` is a Unix time; anything outside these years is not one.
_TIMESTAMP_RANGE = (0, 253402300799)  # 1970 .. 9999-12-31


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


def _order_id(obj: dict) -> int | None:
    metadata = obj.get("metadata")
    raw = (metadata.get("order_id") if isinstance(metadata, dict) else None) or obj.get(
        "client_reference_id"
    )
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _payment_intent_id(obj: dict) -> str:
    if obj.get("object") == "payment_intent":
        value = obj.get("id")
        return value if isinstance(value, str) else ""
    value = obj.get("payment_intent")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


# Columns a delivery sets; every other column takes its model default (see _insert_plan).
_DELIVERY_COLUMNS = frozenset(
    {
        "stripe_event_id",
        "type",
        "livemode",
        "api_version",
        "stripe_created",
        "payload",
        "source",
        "order_id",
        "payment_intent_id",
        "received_at",
    }
)
_insert_plans: dict[str, tuple[str, list, dict]] = {}


def _insert_plan(connection) -> tuple[str, list, dict]:
    """The INSERT statement, its fields and the defaults' database values, built once."""
    plan = _insert_plans.get(connection.alias)
    if plan is None:
        fields = [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]
        defaults = {
            f.attname: f.get_db_prep_save(f.get_default(), connection)
            for f in fields
            if f.attname not in _DELIVERY_COLUMNS
        }
        quote = connection.ops.quote_name
        # Identifiers come from the model's metadata; every value is a query parameter.
        sql = (
            f"INSERT INTO {quote(WebhookEvent._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote('stripe_event_id')}) DO NOTHING RETURNING {quote('id')}"
        )
        plan = _insert_plans[connection.alias] = (sql, fields, defaults)
    return plan


def _insert(connection, sql: str, params: list):
    if connection.in_atomic_block or connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    # In autocommit the INSERT is its own health check: Django's (CONN_HEALTH_CHECKS) would
    # cost a SELECT 1 round trip per delivery. A connection PostgreSQL dropped (restart,
    # failover) fails at once, and the statement runs again on a new one; ON CONFLICT makes
    # running it twice harmless.
    connection.health_check_done = True
    for retry in (True, False):
        try:
            return _insert_prepared(connection, sql, params)
        except (OperationalError, InterfaceError):
            if not retry:
                raise
            connection.close()
    raise AssertionError("unreachable")


def _insert_prepared(connection, sql: str, params: list):
    """Run the INSERT as a prepared statement with server-side parameters.

    Django's psycopg cursors bind parameters client-side (the 3 KB payload is quoted into
    the SQL text, which PostgreSQL parses and plans again for every delivery). A plain
    psycopg cursor on the same connection sends the parameters apart, and psycopg prepares
    the statement after a few runs (its `prepare_threshold`, which a pooler that cannot
    keep prepared statements turns off through the database OPTIONS). Errors are Django's.
    """
    import psycopg

    with connection.wrap_database_errors:
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()


def store_event(
    event: dict, *, source: str = WebhookEvent.Source.WEBHOOK, nul_escaped: bool = False
) -> tuple[int, bool]:
    """Insert the event keyed by Stripe's id: (its inbox row's id, False for a duplicate).

    One statement, `INSERT ... ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id`: no
    BEGIN/COMMIT round trips around it (autocommit), no savepoint and no IntegrityError
    for a duplicate delivery, and inside a caller's transaction it cannot abort it. No
    model instance is built: this is the webhook's hot path.

    `nul_escaped`: the caller already escaped NUL characters (parse_event does, from the
    raw body, without walking the event); others' events are walked here.
    """
    if not nul_escaped:
        event = nul_characters.escape(event)
    obj = event["data"]["object"]
    created = event.get("created")
    delivery = {
        "stripe_event_id": event["id"],
        "type": event["type"][:128],
        "livemode": bool(event.get("livemode")),
        "api_version": str(event.get("api_version") or "")[:64],
        "stripe_created": (
            datetime.fromtimestamp(created, tz=UTC)
            if type(created) is int and _TIMESTAMP_RANGE[0] <= created <= _TIMESTAMP_RANGE[1]
            else None
        ),
        "payload": event,
        "source": source,
        "order_id": _order_id(obj),
        "payment_intent_id": _payment_intent_id(obj)[:255],
        "received_at": timezone.now(),
    }
    connection = connections[router.db_for_write(WebhookEvent)]
    sql, fields, defaults = _insert_plan(connection)
    params = [
        f.get_db_prep_save(delivery[f.attname], connection)
        if f.attname in delivery
        else defaults[f.attname]
        for f in fields
    ]
    inserted = _insert(connection, sql, params)
    if inserted is None:
        existing = WebhookEvent.objects.filter(stripe_event_id=event["id"])
        return existing.values_list("pk", flat=True).get(), False
    if nul_characters.KEY in event:
        _report_nul_escaped(event, source)
    return inserted[0], True


def _report_nul_escaped(event: dict, source: str) -> None:
    """Stored, but a NUL in a Stripe event is unusual (someone typed one into a field that
    reached Stripe, or worse): counted, logged, audited, and alerted (payments.monitoring)."""
    count = nul_characters.count(event)
    logger.warning(
        "webhook event %s (%s) held %s NUL character(s); stored escaped",
        event["id"],
        event["type"],
        count,
    )
    metrics.count("webhook_events_nul_escaped", type=event["type"])
    record(
        "webhook.nul_escaped",
        actor_label="stripe",
        outcome="success",
        details={"event_id": event["id"], "type": event["type"], "source": source, "nul": count},
    )


PENDING_KEY = "inbox:pending"
DISPATCH_BATCH = 100


def hand_over(event_pk: int, event_type: str) -> None:
    """Count a newly stored event and get it processed: one Redis round trip in the request.

    Building and publishing a Celery message was the largest cost of a delivery (bench/:
    about 0.8 of 2.8 ms CPU). With Redis and a real broker the event's id goes on a Redis
    list instead, in the same pipeline as its metric; only the delivery that finds the list
    empty queues the dispatcher task, which turns the ids into processing tasks on the
    worker side and empties the list. Without Redis, or with eager tasks, the event's task
    is queued directly. An id lost on the way (Redis down, a worker killed after taking it)
    leaves its event "received" in the inbox, where the sweep finds it.
    """
    from celery import current_app

    client = redis_client.client()
    if client is None or current_app.conf.task_always_eager:
        metrics.count("webhook_events_received", type=event_type)
        enqueue(event_pk)
        return
    try:
        pipeline = client.pipeline(transaction=False)
        metrics.count("webhook_events_received", type=event_type, pipeline=pipeline)
        pipeline.lpush(redis_client.key(PENDING_KEY), event_pk)
        waiting = pipeline.execute()[-1]
    except Exception as exc:  # Redis unreachable: the row is safe, the sweep will queue it
        logger.warning(
            "webhook event %s stored but not handed over (%s); the sweep will queue it",
            event_pk,
            type(exc).__name__,
        )
        return
    if waiting == 1:
        _queue_dispatcher()


def _queue_dispatcher() -> None:
    from payments.tasks import dispatch_webhook_events

    try:
        dispatch_webhook_events.apply_async(retry=False)
    except Exception as exc:
        logger.warning(
            "webhook dispatcher not queued (%s); the sweep will run it", type(exc).__name__
        )


def dispatch_pending() -> int:
    """Queue a processing task for every id on the hand-over list, oldest first, until empty."""
    client = redis_client.client()
    if client is None:
        return 0
    key, moved = redis_client.key(PENDING_KEY), 0
    while True:
        ids = client.rpop(key, DISPATCH_BATCH)
        if not ids:
            return moved
        for raw in ids:
            enqueue(int(raw))
        moved += len(ids)


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
