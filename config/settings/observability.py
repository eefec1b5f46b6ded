"""Logs, Sentry, /metrics and the alert thresholds (README "Observability")."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import DEBUG, env
from observability.logging import logging_config

# One line per event on stderr through structlog, with ids bound and secrets redacted
# (observability.logging): readable text in development (LOG_FORMAT=console, the default
# with DEBUG on), a JSON object per line for log collectors (json, the default with DEBUG off).
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
if LOG_FORMAT not in ("console", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT is console or json, not {LOG_FORMAT!r}.")
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=LOG_FORMAT)
# Celery must not replace these handlers with its own plain-text ones in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from observability.sentry import init as init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# Bearer token Prometheus sends to GET /metrics; empty: the endpoint does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Alert thresholds (observability.alerts, checked every minute by beat).
ALERT_PAYMENT_FAILURE_RATE = env.float("ALERT_PAYMENT_FAILURE_RATE", default=0.5)
ALERT_PAYMENT_FAILURE_WINDOW_MINUTES = env.int("ALERT_PAYMENT_FAILURE_WINDOW_MINUTES", default=15)
ALERT_PAYMENT_FAILURE_MIN_PAYMENTS = env.int("ALERT_PAYMENT_FAILURE_MIN_PAYMENTS", default=10)
ALERT_WEBHOOK_SIGNATURE_FAILURES = env.int("ALERT_WEBHOOK_SIGNATURE_FAILURES", default=10)
# Events Stripe signed that were refused, or stored with NUL characters escaped (same window).
ALERT_WEBHOOK_SIGNED_REFUSALS = env.int("ALERT_WEBHOOK_SIGNED_REFUSALS", default=1)
ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES = env.int(
    "ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES", default=15
)
ALERT_WEBHOOK_FAILED_EVENTS = env.int("ALERT_WEBHOOK_FAILED_EVENTS", default=1)
ALERT_RECONCILIATION_MISMATCHES = env.int("ALERT_RECONCILIATION_MISMATCHES", default=1)
ALERT_DISPUTES_OPENED = env.int("ALERT_DISPUTES_OPENED", default=1)
ALERT_DISPUTES_WINDOW_HOURS = env.int("ALERT_DISPUTES_WINDOW_HOURS", default=24)
# Rate limits skipped because the cache was unreachable (api.ratelimits), in a window.
ALERT_RATE_LIMITS_NOT_ENFORCED = env.int("ALERT_RATE_LIMITS_NOT_ENFORCED", default=1)
ALERT_RATE_LIMITS_WINDOW_MINUTES = env.int("ALERT_RATE_LIMITS_WINDOW_MINUTES", default=15)
