"""Celery tasks: thin wrappers over payments.reconciliation and payments.declines."""

import logging

from celery import shared_task
from django.conf import settings

from payments import declines, reconciliation

logger = logging.getLogger(__name__)


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
