"""Counters and a histogram shared by every web and Celery process.

Prometheus scrapes one process at a time, so per-process counters would show whichever
gunicorn worker answered. The numbers live in Redis instead (`REDIS_URL`): one hash per
metric, one field per label set, incremented atomically (HINCRBY). Without Redis
(development) they live in the process, which is right only for a single process.

Counting must never break what is counted: a Redis failure is logged at DEBUG and ignored.
Gauges (events waiting, breaker state, open disputes, ...) are not stored here; they are
read from the database and the cache when scraped (observability.metrics_export).
"""

import json
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager

from django.db import transaction

from core import redis_client

logger = logging.getLogger(__name__)

PREFIX = redis_client.DEFAULT_PREFIX

# name → (help, label names). Names are exported as shop_<name>_total.
COUNTERS = {
    "webhook_events_received": ("Verified Stripe events stored in the inbox", ("type",)),
    "webhook_events_duplicate": ("Verified Stripe events already in the inbox", ("type",)),
    "webhook_events_processed": ("Inbox events applied", ("type",)),
    "webhook_events_ignored": ("Inbox events ignored (not ours, unhandled type)", ("type",)),
    "webhook_events_failed": ("Inbox events failed after their last attempt", ("type",)),
    "webhook_deliveries_rejected": ("Webhook deliveries refused (signature, size)", ("code",)),
    "webhook_events_nul_escaped": ("Signed events stored with NUL characters escaped", ("type",)),
    "payments": ("Payment outcomes reported by Stripe", ("outcome",)),
    "refunds": ("Refunds requested by staff and refund states confirmed by Stripe", ("status",)),
    "disputes": ("Disputes opened and closed", ("event",)),
    "stripe_errors": ("Errors raised by Stripe calls, by SDK error class", ("error_class",)),
    "http_rate_limited": ("Requests answered 429, by route", ("route",)),
    "rate_limits_skipped": (
        "Rate-limit checks skipped because the cache was unreachable, by limit group",
        ("group",),
    ),
    "alerts": ("Alert notifications sent", ("alert", "state")),
}

# Seconds from an event's arrival to its processing (webhook inbox lag).
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
HISTOGRAMS = {
    "webhook_processing_lag_seconds": (
        "Seconds from receiving a Stripe event to processing it",
        LAG_BUCKETS,
    ),
}


def _field(labels: dict) -> str:
    return json.dumps(labels, sort_keys=True, separators=(",", ":"))


class _RedisStore:
    def __init__(self, client):
        self.client = client

    def key(self, name: str) -> str:
        return redis_client.key(f"metrics:{name}")

    def incr(self, name: str, field: str, amount: float = 1, pipeline=None) -> None:
        target = pipeline if pipeline is not None else self.client
        if isinstance(amount, int):
            target.hincrby(self.key(name), field, amount)
        else:
            target.hincrbyfloat(self.key(name), field, amount)

    def read(self, name: str) -> dict[str, float]:
        raw = self.client.hgetall(self.key(name))
        return {k.decode(): float(v) for k, v in raw.items()}

    def reset(self) -> None:
        for name in [*COUNTERS, *HISTOGRAMS]:
            self.client.delete(self.key(name))


class _LocalStore:
    def __init__(self):
        self.lock = threading.Lock()
        self.values: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def incr(self, name: str, field: str, amount: float = 1, pipeline=None) -> None:
        with self.lock:
            self.values[name][field] += amount

    def read(self, name: str) -> dict[str, float]:
        with self.lock:
            return dict(self.values.get(name, {}))

    def reset(self) -> None:
        with self.lock:
            self.values.clear()


_store = None
_store_lock = threading.Lock()


def store():
    global _store
    client = redis_client.client()
    with _store_lock:
        if client is None:
            if not isinstance(_store, _LocalStore):
                _store = _LocalStore()
        elif not isinstance(_store, _RedisStore) or _store.client is not client:
            _store = _RedisStore(client)
        return _store


def count(name: str, amount: int = 1, *, pipeline=None, **labels) -> None:
    """Add to a counter now (for things that happened whatever a transaction does).

    With `pipeline` (a redis-py pipeline on `core.redis_client`), the increment rides
    along with the caller's other commands in one round trip.
    """
    _, label_names = COUNTERS[name]
    values = {label: str(labels.get(label, ""))[:128] for label in label_names}
    try:
        store().incr(name, _field(values), amount, pipeline=pipeline)
    except Exception as exc:
        logger.debug("metric %s not counted (%s)", name, type(exc).__name__)


def count_on_commit(name: str, amount: int = 1, **labels) -> None:
    """Add to a counter when the surrounding transaction commits (now, outside one)."""
    transaction.on_commit(lambda: count(name, amount, **labels))


def observe(name: str, value: float, *, pipeline=None) -> None:
    """Add an observation to a histogram (with `pipeline`: in the caller's round trip)."""
    _, buckets = HISTOGRAMS[name]
    bucket = next((str(bound) for bound in buckets if value <= bound), "+Inf")
    try:
        current = store()
        current.incr(name, bucket, 1, pipeline=pipeline)
        current.incr(name, "sum", float(value), pipeline=pipeline)
    except Exception as exc:
        logger.debug("metric %s not observed (%s)", name, type(exc).__name__)


@contextmanager
def one_round_trip():
    """Counts and observations made with the pipeline this yields go to Redis in one round
    trip when the block ends (None without Redis: they go to the local store directly).
    Metrics never fail the caller: an unreachable Redis loses them, logged at debug."""
    current = store()
    pipeline = (
        current.client.pipeline(transaction=False) if isinstance(current, _RedisStore) else None
    )
    yield pipeline
    if pipeline is not None:
        try:
            pipeline.execute()
        except Exception as exc:
            logger.debug("metrics not counted (%s)", type(exc).__name__)


def read_counter(name: str) -> dict[tuple, float]:
    """{(label values...): value} for one counter."""
    _, label_names = COUNTERS[name]
    result = {}
    for field, value in store().read(name).items():
        labels = json.loads(field)
        result[tuple(labels.get(label, "") for label in label_names)] = value
    return result


def read_histogram(name: str) -> tuple[list[tuple[str, float]], float]:
    """(cumulative buckets as Prometheus wants them, sum of observations)."""
    _, buckets = HISTOGRAMS[name]
    raw = store().read(name)
    cumulative, running = [], 0.0
    for bound in [*(str(b) for b in buckets), "+Inf"]:
        running += raw.get(bound, 0.0)
        cumulative.append((bound, running))
    return cumulative, raw.get("sum", 0.0)


def reset() -> None:
    """Tests only: start every counter from zero."""
    store().reset()


# --- what the code base reports ----------------------------------------------------------
def record_webhook_outcome(event) -> None:
    """Called with an inbox row just saved by processing; counts once the save commits."""
    status = event.status
    if status == "received":
        return  # will be tried again: not an outcome yet
    event_type = event.type
    lag = None
    if status == "processed" and event.handled_at and event.received_at:
        lag = max(0.0, (event.handled_at - event.received_at).total_seconds())

    def counted():
        # The counter and the lag in one Redis round trip (three before): once per event.
        with one_round_trip() as pipeline:
            count(f"webhook_events_{status}", type=event_type, pipeline=pipeline)
            if lag is not None:
                observe("webhook_processing_lag_seconds", lag, pipeline=pipeline)

    transaction.on_commit(counted)


class RateLimitedResponsesMiddleware:
    """Counts every 429 the shop answers (rate limits, velocity guard, admin login)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 429:
            match = getattr(request, "resolver_match", None)
            count("http_rate_limited", route=(match.url_name if match else None) or "other")
        return response
