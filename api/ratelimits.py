"""Rate limits (django-ratelimit's counters on the shared cache), configured in RATE_LIMITS.

Every group counts per user and/or per client address (core.client_address: the real
client behind TRUSTED_PROXIES, or the one shared "unknown" client); the first limit hit
answers 429 with `Retry-After` set to the end of the current window. In development
(local-memory cache) each process counts on its own; with REDIS_URL all processes share
the counters.

A limit is skipped in one case only: the cache cannot be reached (connection refused,
timeout, socket error). Refusing every request then, Stripe's webhooks included, would
turn a cache outage into a shop outage; so the request goes through, and the skip is
logged, counted (`shop_rate_limits_skipped_total`) and recorded for the alert
`rate_limits_not_enforced`. Anything else the cache raises is a bug or a configuration
error and propagates; the configuration itself is checked at start-up
(`validate_configuration`, called from the api app's AppConfig.ready), so a malformed
rate never reaches a request.
"""

import functools
import ipaddress
import logging
import re
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.utils import timezone
from django_ratelimit.core import get_usage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.openapi import document
from audit.models import AuditEntry
from audit.services import record
from core.client_address import UNKNOWN, client_address, parse_trusted_proxies
from core.errors import RateLimited
from observability import metrics
from observability.alerts import Reading

logger = logging.getLogger(__name__)

# What an unreachable cache raises: redis-py's connection and timeout errors, and the
# socket errors under them (refused, reset, name resolution).
CACHE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# django-ratelimit's own syntax: count/[multiplier]unit, e.g. 20/m, 5/15m, 10/d.
RATE = re.compile(r"^(\d+)/([1-9]\d*)?([smhd])$")

# One audit row per group and process this often at most while the cache is down: enough
# for the alert, not a row per request.
NOTE_INTERVAL_SECONDS = 60
_noted: dict[str, float] = {}
_noted_lock = threading.Lock()


def client_key(group, request) -> str:
    """The client's bucket: its address, or its /64 for IPv6 (one host's usual share)."""
    address = client_address(request)
    if address == UNKNOWN or ":" not in address:
        return address
    mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64)
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)


def user_key(group, request) -> str:
    return str(request.user.pk)


KEYS = {"ip": client_key, "user": user_key}


def usage(request, *, group: str, name: str, key, rate: str, increment: bool) -> dict | None:
    """django-ratelimit's usage of one counter, or None when the cache cannot be reached."""
    try:
        return get_usage(request, group=f"{group}:{name}", key=key, rate=rate, increment=increment)
    except CACHE_UNREACHABLE as exc:
        not_enforced(group, exc)
        return None


def not_enforced(group: str, exc: BaseException) -> None:
    logger.warning(
        "rate limit %s not enforced: cache unreachable (%s)",
        group,
        type(exc).__name__,
        extra={"rate_limit_group": group},
    )
    metrics.count("rate_limits_skipped", group=group)
    _note_for_the_alert(group)


def _note_for_the_alert(group: str) -> None:
    # In the database, not the cache (which is what is down): the alert condition counts
    # these rows, so staff hear about the outage even though the counters were lost.
    now = time.monotonic()
    with _noted_lock:
        if now - _noted.get(group, -NOTE_INTERVAL_SECONDS) < NOTE_INTERVAL_SECONDS:
            return
        _noted[group] = now
    try:
        record(
            "rate_limit.not_enforced",
            actor_label="rate-limits",
            outcome=AuditEntry.Outcome.FAILED,
            details={"group": group},
        )
    except DatabaseError:
        logger.exception("rate limit %s: the skip could not be recorded", group)


def seconds_until_reset(found: dict) -> int:
    """Retry-After for a counter: django-ratelimit's `time_left` is one second short.

    Its window named `w` still counts during the whole second `w` (the key changes only at
    `w + 1`), while `time_left` is `w - now` in whole seconds; a client that waited exactly
    that long would be refused again.
    """
    return max(1, found["time_left"] + 1)


def enforce(request, group: str) -> None:
    for name, rate in settings.RATE_LIMITS[group].items():
        if name == "user" and not request.user.is_authenticated:
            continue
        found = usage(request, group=group, name=name, key=KEYS[name], rate=rate, increment=True)
        if found is None:
            return
        if found["should_limit"]:
            raise RateLimited(retry_after=seconds_until_reset(found))


def rate_limited(group: str):
    """Decorate a DRF handler method: count the call, refuse it past the group's limits."""

    def decorator(handler):
        @functools.wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            enforce(request, group)
            return handler(view, request, *args, **kwargs)

        return document(wrapper, refusals=[RateLimited])  # 429 in the schema

    return decorator


def validate_configuration() -> None:
    """Refuse to start with a limit, proxy list or cache that would fail on a request."""
    parse_trusted_proxies(settings.TRUSTED_PROXIES)
    cache_name = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    if cache_name not in settings.CACHES:
        raise ImproperlyConfigured(f"RATELIMIT_USE_CACHE: no cache named {cache_name!r}.")
    for group, limits in settings.RATE_LIMITS.items():
        for name, rate in limits.items():
            if not isinstance(rate, str) or not RATE.match(rate):
                raise ImproperlyConfigured(
                    f"RATE_LIMITS[{group!r}][{name!r}]: {rate!r} is not a rate such as 20/m, "
                    "5/15m or 10/d (set through the RATE_LIMIT_* variables)."
                )


def rate_limits_not_enforced() -> Reading:
    """Alert condition: limits skipped while the cache was unreachable, in the window."""
    # `_note_for_the_alert` records (at most once a minute per group and process) each time a
    # limit was skipped because the cache was unreachable; the rows are in the database
    # because the cache, where the metric counter also lives, is what was down.
    minutes = settings.ALERT_RATE_LIMITS_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    skipped = AuditEntry.objects.filter(action="rate_limit.not_enforced", created_at__gte=since)
    count = skipped.count()
    groups = sorted({e.details.get("group", "") for e in skipped[:100]})
    return Reading(
        count >= settings.ALERT_RATE_LIMITS_NOT_ENFORCED,
        f"rate limits not enforced (cache unreachable) {count} time(s) in the last "
        f"{minutes} minutes: {', '.join(groups) or '-'}",
        {"records": count, "groups": groups, "threshold": settings.ALERT_RATE_LIMITS_NOT_ENFORCED},
    )
