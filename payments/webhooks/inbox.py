"""The inbox: every Stripe event stored once, keyed by its id, before anything is done
with it. Nothing slow, no Stripe call: this is the webhook's hot path."""

import logging
from datetime import UTC, datetime

from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone

from audit.services import record
from observability import metrics
from payments.handlers import registry
from payments.models import WebhookEvent
from payments.webhooks import nul_characters

logger = logging.getLogger(__name__)

# Stripe's `created` is a Unix time; anything outside these years is not one.
_TIMESTAMP_RANGE = (0, 253402300799)  # 1970 .. 9999-12-31


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
        "status",
        "last_error",
        "handled_at",
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


class _Verbatim(str):
    """JSON text sent to the jsonb column as it is (psycopg sends a str untyped, so
    PostgreSQL parses it as the column's type)."""


def _db_value(field, value, connection):
    if type(value) is _Verbatim:
        return str(value)
    return field.get_db_prep_save(value, connection)


def is_unhandled(event_type: str) -> bool:
    """Stored ignored at once, never queued: no handler applies this type."""
    return not registry.has_handler(event_type[:128])


def store_event(
    event: dict,
    *,
    source: str = WebhookEvent.Source.WEBHOOK,
    nul_escaped: bool = False,
    body: str | None = None,
) -> tuple[int, bool]:
    """Insert the event keyed by Stripe's id: (its inbox row's id, False for a duplicate).

    One statement, `INSERT ... ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id`: no
    BEGIN/COMMIT round trips around it (autocommit), no savepoint and no IntegrityError
    for a duplicate delivery, and inside a caller's transaction it cannot abort it. No
    model instance is built: this is the webhook's hot path.

    `nul_escaped`: the caller already escaped NUL characters (parse_event does, from the
    raw body, without walking the event); others' events are walked here.

    `body`: the JSON text `event` was parsed from (the webhook's verified body). It is sent
    as it is and PostgreSQL parses it into the same jsonb, instead of the event being
    encoded to JSON again in the request; an event whose NUL characters were escaped is
    no longer that text and is stored from the dict.

    An event of a type no handler applies (most of what Stripe sends an endpoint that
    listens to everything) is stored `ignored`, handled now, in the same INSERT: nothing
    is left to process, so no task is queued for it (`is_unhandled`). A replay by staff
    takes it up like any ignored event.
    """
    if not nul_escaped:
        event = nul_characters.escape(event)
    obj = event["data"]["object"]
    created = event.get("created")
    now, unhandled = timezone.now(), is_unhandled(event["type"])
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
        "payload": event if body is None or nul_characters.KEY in event else _Verbatim(body),
        "source": source,
        "order_id": _order_id(obj),
        "payment_intent_id": _payment_intent_id(obj)[:255],
        "received_at": now,
        "status": WebhookEvent.Status.IGNORED if unhandled else WebhookEvent.Status.RECEIVED,
        "last_error": registry.NO_HANDLER if unhandled else "",
        "handled_at": now if unhandled else None,
    }
    connection = connections[router.db_for_write(WebhookEvent)]
    sql, fields, defaults = _insert_plan(connection)
    params = [
        _db_value(f, delivery[f.attname], connection)
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
