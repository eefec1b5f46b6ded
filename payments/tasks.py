"""Celery tasks: thin wrappers over payments.processing and payments.reconciliation."""

import logging

from celery import shared_task
from django.conf import settings

from payments import declines, inbox, processing, reconciliation
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    result = processing.process(event_pk)
    if result == processing.RETRY and not settings.CELERY_TASK_ALWAYS_EAGER:
        attempts = WebhookEvent.objects.filter(pk=event_pk).values_list("attempts", flat=True)
        countdown = processing.backoff_seconds(attempts.first() or 1)
        inbox.enqueue(event_pk, countdown=countdown)
    # In eager mode (development without a broker) a waiting event runs again when what it
    # waits for is recorded (processing.requeue_waiting), or through the sweep and replay.
    return result


@shared_task(ignore_result=True)
def dispatch_webhook_events() -> int:
    return inbox.dispatch_pending()


@shared_task(ignore_result=True)
def sweep_webhook_events() -> int:
    return processing.sweep()


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Hourly: compare the recent window with Stripe; repairs only with RECONCILE_AUTO_FIX."""
    if not settings.STRIPE_SECRET_KEY:
        logger.info("reconcile: no Stripe key configured, nothing to compare")
        return {}
    report = reconciliation.run(fix=settings.RECONCILE_AUTO_FIX)
    for line in report.lines():
        logger.info("reconcile: %s", line)
    return report.counts()


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=6)
def enforce_decline_limits(self, decline_pk: int) -> str:
    """After a decline committed: close at Stripe the open payments a tripped limit covers.

    Closing is idempotent (Stripe's "already closed" counts as done), so a retry or a
    second task repeats nothing. What is still open after the last retry is closed by the
    beat sweep below.
    """
    closed, failed = declines.enforce(decline_pk)
    if failed and not settings.CELERY_TASK_ALWAYS_EAGER and self.request.retries < self.max_retries:
        raise self.retry(countdown=15 * 2**self.request.retries)
    return f"{closed} closed, {failed} failed"


@shared_task(ignore_result=True)
def close_blocked_payments() -> str:
    """Beat, every minute: the kill switch and the decline limits, applied at Stripe."""
    closed, failed = declines.close_blocked()
    return f"{closed} closed, {failed} failed"
