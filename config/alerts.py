"""Alert conditions, checked every minute by beat (`config.tasks.check_alerts`).

Each condition reads the database and says whether it holds now. Staff hear about a
condition once when it starts to hold (e-mail to STAFF_ALERT_EMAILS, an `ALERT ...` log
line, an audit entry) and once when it stops ("cleared"), not at every check. Which
conditions are firing is remembered in the shared cache: `cache.add` / `cache.delete` are
atomic, so two overlapping checks cannot both send the same notification. If the cache is
flushed a condition that still holds is announced once more, which is the safe side.

Thresholds are settings (ALERT_*), listed in README "Observability".
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

from audit import rejections
from audit.models import AuditEntry
from audit.services import record
from config import metrics

logger = logging.getLogger(__name__)

STATE_KEY = "alerts:firing:{}"
SIGNATURE_CODES = ["missing_signature", "invalid_signature"]


@dataclass(frozen=True)
class Reading:
    firing: bool
    summary: str
    details: dict = field(default_factory=dict)


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
    from payments.models import WebhookEvent

    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    return Reading(
        failed >= settings.ALERT_WEBHOOK_FAILED_EVENTS,
        f"{failed} webhook event(s) failed; replay them after fixing the cause",
        {"failed": failed, "threshold": settings.ALERT_WEBHOOK_FAILED_EVENTS},
    )


def reconciliation_mismatches() -> Reading:
    from payments.models import ReconciliationMismatch

    open_mismatches = ReconciliationMismatch.objects.filter(resolved_at__isnull=True).count()
    return Reading(
        open_mismatches >= settings.ALERT_RECONCILIATION_MISMATCHES,
        f"{open_mismatches} open reconciliation mismatch(es) between our books and Stripe",
        {"open": open_mismatches, "threshold": settings.ALERT_RECONCILIATION_MISMATCHES},
    )


def disputes_opened() -> Reading:
    from payments.models import Dispute

    hours = settings.ALERT_DISPUTES_WINDOW_HOURS
    since = timezone.now() - timedelta(hours=hours)
    opened = Dispute.objects.filter(created_at__gte=since).count()
    return Reading(
        opened >= settings.ALERT_DISPUTES_OPENED,
        f"{opened} dispute(s) opened in the last {hours} hours; answer before evidence is due",
        {"opened": opened, "threshold": settings.ALERT_DISPUTES_OPENED},
    )


def rate_limits_not_enforced() -> Reading:
    # config.ratelimits records (at most once a minute per group and process) each time a
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


CONDITIONS: dict[str, Callable[[], Reading]] = {
    "rate_limits_not_enforced": rate_limits_not_enforced,
    "payment_failure_rate": payment_failure_rate,
    "webhook_signature_failures": webhook_signature_failures,
    "webhook_events_refused_or_escaped": webhook_events_refused_or_escaped,
    "webhook_events_failed": webhook_events_failed,
    "reconciliation_mismatches": reconciliation_mismatches,
    "disputes_opened": disputes_opened,
}


def _notify(name: str, reading: Reading, state: str) -> None:
    if state == "firing":
        logger.warning("ALERT %s: %s", name, reading.summary, extra={"alert": name})
        subject = f"[shop alert] {reading.summary}"
    else:
        logger.info("alert cleared %s: %s", name, reading.summary, extra={"alert": name})
        subject = f"[shop alert cleared] {name}: {reading.summary}"
    record(
        f"alert.{state}",
        actor_label="monitoring",
        outcome=AuditEntry.Outcome.SUCCESS,
        details={"alert": name, "summary": reading.summary, **reading.details},
    )
    metrics.count("alerts", alert=name, state=state)
    body = "\n".join(
        [reading.summary, "", *(f"{key}: {value}" for key, value in reading.details.items())]
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, settings.STAFF_ALERT_EMAILS)
    except Exception:  # the log line and the audit entry are there; the next state change mails
        logger.exception("alert e-mail for %s could not be sent", name)


def check(conditions: dict[str, Callable[[], Reading]] | None = None) -> dict[str, str]:
    """Evaluate every condition; notify the changes. Returns {name: what happened}."""
    outcome = {}
    for name, condition in (conditions or CONDITIONS).items():
        try:
            reading = condition()
        except Exception:
            logger.exception("alert condition %s could not be checked", name)
            outcome[name] = "error"
            continue
        try:
            outcome[name] = _transition(name, reading)
        except Exception:  # the cache is down: try again at the next check
            logger.exception("alert state for %s could not be updated", name)
            outcome[name] = "error"
    return outcome


def _transition(name: str, reading: Reading) -> str:
    """Notify when the condition changed since the last check; say what happened."""
    key = STATE_KEY.format(name)
    if reading.firing:
        if cache.add(key, timezone.now().isoformat(), timeout=None):
            _notify(name, reading, "firing")
            return "fired"
        return "still firing"
    if cache.delete(key):
        _notify(name, reading, "cleared")
        return "cleared"
    return "ok"


def firing_states() -> dict[str, bool]:
    keys = {STATE_KEY.format(name): name for name in CONDITIONS}
    try:
        found = cache.get_many(list(keys))
    except Exception:
        found = {}
    return {name: key in found for key, name in keys.items()}
