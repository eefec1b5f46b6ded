"""Rate limits (django-ratelimit's counters on the shared cache), configured in RATE_LIMITS.

Every group counts per user and/or per IP; the first limit hit answers 429 with
`Retry-After` set to the end of the current window. In development (local-memory cache)
each process counts on its own; with REDIS_URL all processes share the counters.
"""

import functools
import logging

from django.conf import settings
from django_ratelimit.core import get_usage

from config.errors import RateLimited

logger = logging.getLogger(__name__)


def enforce(request, group: str) -> None:
    for key, rate in settings.RATE_LIMITS[group].items():
        if key == "user" and not request.user.is_authenticated:
            continue
        try:
            usage = get_usage(request, group=f"{group}:{key}", key=key, rate=rate, increment=True)
        except Exception as exc:
            # The cache is down: fail open. Refusing every request (Stripe's webhooks
            # included) would turn a cache outage into a shop outage.
            logger.warning(
                "rate limit %s not checked: cache unavailable (%s)", group, type(exc).__name__
            )
            return
        if usage is not None and usage["should_limit"]:
            raise RateLimited(retry_after=max(1, usage["time_left"]))


def rate_limited(group: str):
    """Decorate a DRF handler method: count the call, refuse it past the group's limits."""

    def decorator(handler):
        @functools.wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            enforce(request, group)
            return handler(view, request, *args, **kwargs)

        return wrapper

    return decorator
