"""What payments adds to monitoring: alert conditions, /metrics gauges, a readiness check.

Registered with observability in PaymentsConfig.ready (`register`). Thresholds are
settings (ALERT_*), listed in README "Observability".
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from audit import rejections
from audit.models import AuditEntry
from observability import alerts, health, metrics_export
from observability.alerts import Reading
from observability.health import NotReady
from payments.gateway import breaker
from payments.models import DISPUTE_CLOSED, Dispute, ReconciliationMismatch, WebhookEvent

SIGNATURE_CODES = ["missing_signature", "invalid_signature"]


# --- alert conditions ------------------------------------------------------------------
def payment_failure_rate() -> Reading:
    since = timezone.now() - timedelta(minutes=settings.ALERT_PAYMENT_FAILURE_WINDOW_MINUTES)
    recent = AuditEntry.objects.filter(created_at__gte=since)
    failed = recent.filter(action="payment.failed").count()
    succeeded = recent.filter(action="payment.succeeded").count()
    total = failed + succeeded
    rate = failed / total if total else 0.0
    firing = (
        total >= settings.ALERT_PAYMENT_FAILURE_MIN_PAYMENTS
        and rate >= settings.ALERT_PAYMENT_FAILURE_RATE
    )
    return Reading(
        firing,
        f"payment failure rate {rate:.0%} ({failed} of {total}) in the last "
        f"{settings.ALERT_PAYMENT_FAILURE_WINDOW_MINUTES} minutes",
        {
            "failed": failed,
            "succeeded": succeeded,
            "threshold": settings.ALERT_PAYMENT_FAILURE_RATE,
        },
    )


def webhook_signature_failures() -> Reading:
    minutes = settings.ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    # Rows are aggregated per client and window; open windows are counted in the cache.
    rejected = rejections.total("webhook.rejected", SIGNATURE_CODES, since)
    return Reading(
        rejected >= settings.ALERT_WEBHOOK_SIGNATURE_FAILURES,
        f"{rejected} webhook deliveries with a bad or missing signature in the last "
        f"{minutes} minutes",
        {"rejected": rejected, "threshold": settings.ALERT_WEBHOOK_SIGNATURE_FAILURES},
    )


def webhook_events_refused_or_escaped() -> Reading:
    """Events Stripe signed that we refused (lost until Stripe's retries end: an id or a
    type too long, nesting too deep, not an event) or stored with NUL characters escaped."""
    minutes = settings.ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    recent = AuditEntry.objects.filter(created_at__gte=since)
    refused = recent.filter(action="webhook.rejected", details__signed=True).count()
    escaped = recent.filter(action="webhook.nul_escaped").count()
    return Reading(
        refused + escaped >= settings.ALERT_WEBHOOK_SIGNED_REFUSALS,
        f"{refused} signed webhook event(s) refused and {escaped} stored with NUL characters "
        f"escaped in the last {minutes} minutes",
        {
            "refused": refused,
            "escaped": escaped,
            "threshold": settings.ALERT_WEBHOOK_SIGNED_REFUSALS,
        },
    )


def webhook_events_failed() -> Reading:
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    return Reading(
        failed >= settings.ALERT_WEBHOOK_FAILED_EVENTS,
        f"{failed} webhook event(s) failed; replay them after fixing the cause",
        {"failed": failed, "threshold": settings.ALERT_WEBHOOK_FAILED_EVENTS},
    )


def reconciliation_mismatches() -> Reading:
    open_mismatches = ReconciliationMismatch.objects.filter(resolved_at__isnull=True).count()
    return Reading(
        open_mismatches >= settings.ALERT_RECONCILIATION_MISMATCHES,
        f"{open_mismatches} open reconciliation mismatch(es) between our books and Stripe",
        {"open": open_mismatches, "threshold": settings.ALERT_RECONCILIATION_MISMATCHES},
    )


def disputes_opened() -> Reading:
    hours = settings.ALERT_DISPUTES_WINDOW_HOURS
    since = timezone.now() - timedelta(hours=hours)
    opened = Dispute.objects.filter(created_at__gte=since).count()
    return Reading(
        opened >= settings.ALERT_DISPUTES_OPENED,
        f"{opened} dispute(s) opened in the last {hours} hours; answer before evidence is due",
        {"opened": opened, "threshold": settings.ALERT_DISPUTES_OPENED},
    )


CONDITIONS = {
    "payment_failure_rate": payment_failure_rate,
    "webhook_signature_failures": webhook_signature_failures,
    "webhook_events_refused_or_escaped": webhook_events_refused_or_escaped,
    "webhook_events_failed": webhook_events_failed,
    "reconciliation_mismatches": reconciliation_mismatches,
    "disputes_opened": disputes_opened,
}


# --- gauges (read at scrape time) ------------------------------------------------------
def webhook_events_by_status() -> dict[str, float]:
    by_status = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: by_status.get(status, 0) for status in WebhookEvent.Status.values}


def oldest_received_age_seconds() -> float:
    oldest = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).aggregate(
        at=Min("received_at")
    )["at"]
    return (timezone.now() - oldest).total_seconds() if oldest else 0


def breaker_open() -> float:
    return 1 if breaker.is_open() else 0


def disputes_open() -> float:
    return Dispute.objects.exclude(status__in=DISPUTE_CLOSED).count()


def reconciliation_mismatches_open() -> float:
    return ReconciliationMismatch.objects.filter(resolved_at__isnull=True).count()


# --- readiness -------------------------------------------------------------------------
def stripe_configured() -> str:
    if not settings.STRIPE_SECRET_KEY:
        raise NotReady("STRIPE_SECRET_KEY is not set")
    if not settings.STRIPE_WEBHOOK_SECRETS:
        raise NotReady("STRIPE_WEBHOOK_SECRETS is not set")
    return "emulator" if settings.STRIPE_API_BASE else ""


def register() -> None:
    for name, condition in CONDITIONS.items():
        alerts.register(name, condition)
    metrics_export.register_gauge(
        "webhook_events", "Inbox events by status, now", webhook_events_by_status, label="status"
    )
    metrics_export.register_gauge(
        "webhook_oldest_received_age_seconds",
        "Age of the oldest event still waiting to be processed (0 when none)",
        oldest_received_age_seconds,
    )
    metrics_export.register_gauge(
        "stripe_circuit_breaker_open",
        "1 while the Stripe circuit breaker is open (calls fail fast), else 0",
        breaker_open,
    )
    metrics_export.register_gauge("disputes_open", "Disputes not closed yet", disputes_open)
    metrics_export.register_gauge(
        "reconciliation_mismatches_open",
        "Differences with Stripe found by reconcile and not resolved yet",
        reconciliation_mismatches_open,
    )
    health.register_check("stripe", stripe_configured)
