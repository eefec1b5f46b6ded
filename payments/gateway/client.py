"""The one module that talks to Stripe.

Every call goes through `call()`: the SDK's `StripeClient` with the pinned API version,
connect/read timeouts, the SDK's own network retries, `STRIPE_API_BASE` for the local
emulator, a circuit breaker shared by all processes (cache), and Stripe's errors mapped once
to the API's documented statuses. Nothing else in the code base imports `stripe` to make calls.
"""

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import stripe
from django.conf import settings

from observability import metrics
from payments.errors import (
    CardDeclined,
    StripeMisconfigured,
    StripeNotConfigured,
    StripeRefused,
    StripeUnavailable,
)
from payments.gateway import breaker

logger = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_clients: dict[tuple, stripe.StripeClient] = {}
_http_client_override: stripe.HTTPClient | None = None


def use_http_client(http_client: stripe.HTTPClient | None) -> None:
    """Swap the SDK's HTTP layer (tests put a recording fake here); None restores it."""
    global _http_client_override
    with _lock:
        _http_client_override = http_client
        _clients.clear()
    configure_global_sdk()


_global_http_clients: dict[tuple, stripe.HTTPClient] = {}


def configure_global_sdk() -> None:
    """Point the SDK's module-level API where our client points.

    dj-stripe (the read-only mirror) calls `stripe.<Resource>.retrieve(...)` rather than a
    `StripeClient`: it gets the same API base, timeouts, retries and HTTP layer.
    """
    with _lock:
        stripe.api_base = settings.STRIPE_API_BASE or "https://api.stripe.com"
        stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES
        if _http_client_override is not None:
            stripe.default_http_client = _http_client_override
            return
        timeouts = settings.STRIPE_TIMEOUTS
        if timeouts not in _global_http_clients:
            _global_http_clients[timeouts] = stripe.RequestsClient(timeout=timeouts)
        stripe.default_http_client = _global_http_clients[timeouts]


def not_configured_detail() -> str:
    """What an operator must do when there is no Stripe key (commands print it)."""
    stopped = getattr(settings, "STRIPE_EMULATOR_STOPPED", "")
    if stopped:
        return (
            f"The Stripe emulator at {stopped} is not running (make run stopped): start "
            "`make run` again, or set STRIPE_SECRET_KEY in the environment or in .env."
        )
    return (
        "STRIPE_SECRET_KEY is not set, so Stripe cannot be called. Set it in the environment "
        "or in .env (a test key, sk_test_..., from the Stripe dashboard), or start `make run`: "
        "it runs the offline Stripe emulator and shares its keys with other commands on this "
        f"checkout ({getattr(settings, 'DEV_STRIPE_FILE', 'var/dev-stripe.env')})."
    )


def ensure_configured(*, log: bool = True) -> None:
    """Raise StripeNotConfigured (503 payments_not_configured) when there is no key; a
    command that prints the detail itself passes `log=False`."""
    if not settings.STRIPE_SECRET_KEY:
        detail = not_configured_detail()
        if log:
            logger.warning("stripe: not configured: %s", detail)
        raise StripeNotConfigured(detail)


def client() -> stripe.StripeClient:
    key = (
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUTS,
        id(_http_client_override),
    )
    ensure_configured()
    with _lock:
        if key not in _clients:
            base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
            _clients[key] = stripe.StripeClient(
                settings.STRIPE_SECRET_KEY,
                stripe_version=settings.STRIPE_API_VERSION,
                base_addresses=base,
                max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
                http_client=_http_client_override
                or stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUTS),
            )
        return _clients[key]


def _counting_errors(function: Callable[[stripe.StripeClient], T]) -> T:
    try:
        return function(client())
    except stripe.StripeError as exc:
        metrics.count("stripe_errors", error_class=type(exc).__name__)
        raise


def call(operation: str, function: Callable[[stripe.StripeClient], T]) -> T:
    """Run `function(client)` against Stripe, with the breaker and the error mapping.

    `operation` names the call in logs (never its parameters: they can hold secrets).
    """
    breaker.raise_if_open()
    try:
        result = _counting_errors(function)
    except stripe.CardError as exc:
        breaker.record_success()  # Stripe answered: the card said no, not the network
        logger.info("stripe %s: card declined (%s)", operation, exc.code)
        raise CardDeclined(
            exc.user_message or CardDeclined.message,
            decline_code=exc.code or "card_declined",
        ) from exc
    except stripe.RateLimitError as exc:
        logger.warning("stripe %s: rate limited by Stripe", operation)
        raise StripeUnavailable(code="stripe_rate_limited", retry_after=10) from exc
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        # The network failed or Stripe had an internal error: nothing we sent was refused.
        breaker.record_failure()
        logger.warning("stripe %s: unreachable (%s)", operation, type(exc).__name__)
        raise StripeUnavailable() from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        breaker.record_success()
        logger.critical(
            "ALERT stripe %s: Stripe refused our API key (%s); check STRIPE_SECRET_KEY",
            operation,
            type(exc).__name__,
        )
        raise StripeMisconfigured() from exc
    except stripe.StripeError as exc:  # InvalidRequestError, IdempotencyError, ...
        breaker.record_success()
        logger.error(
            "stripe %s: request refused (%s, code=%s, request_id=%s)",
            operation,
            type(exc).__name__,
            getattr(exc, "code", None),
            getattr(exc, "request_id", None),
        )
        raise StripeRefused(stripe_code=getattr(exc, "code", None) or "") from exc
    breaker.record_success()
    return result
