"""A circuit breaker for Stripe, shared by every process through the cache.

After `STRIPE_BREAKER_THRESHOLD` connection failures in a row (within the failure window)
the breaker opens: calls fail fast with 503 for `STRIPE_BREAKER_COOLDOWN_SECONDS` instead of
each holding a worker for the full timeout. When the cool-down is over calls go through
again; one success closes it, one more failure opens it again.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

from payments.errors import StripeUnavailable

logger = logging.getLogger(__name__)

FAILURES_KEY = "stripe:breaker:failures"
OPEN_UNTIL_KEY = "stripe:breaker:open_until"


def open_for() -> float:
    """Seconds the breaker stays open; 0 when it is closed."""
    open_until = cache.get(OPEN_UNTIL_KEY)
    return max(0.0, open_until - time.time()) if open_until else 0.0


def is_open() -> bool:
    return open_for() > 0


def raise_if_open() -> None:
    remaining = open_for()
    if remaining > 0:
        raise StripeUnavailable(
            code="stripe_unavailable", retry_after=max(1, int(remaining + 0.999))
        )


def record_failure() -> None:
    window = settings.STRIPE_BREAKER_COOLDOWN_SECONDS * 4
    cache.add(FAILURES_KEY, 0, timeout=window)
    try:
        failures = cache.incr(FAILURES_KEY)
    except ValueError:  # expired between add and incr
        cache.set(FAILURES_KEY, 1, timeout=window)
        failures = 1
    if failures >= settings.STRIPE_BREAKER_THRESHOLD:
        cooldown = settings.STRIPE_BREAKER_COOLDOWN_SECONDS
        cache.set(OPEN_UNTIL_KEY, time.time() + cooldown, timeout=cooldown)
        cache.delete(FAILURES_KEY)
        logger.error(
            "ALERT stripe circuit breaker opened for %ss after %s failures", cooldown, failures
        )


def record_success() -> None:
    if cache.get(FAILURES_KEY):
        cache.delete(FAILURES_KEY)
