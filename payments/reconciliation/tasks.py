"""The reconciliation's beat job; it imports its service inside the task function.

The name is the one the task had in payments/tasks.py (beat and queued messages use it).
"""

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="payments.tasks.reconcile", ignore_result=True)
def reconcile() -> dict:
    """Hourly: compare the recent window with Stripe; repairs only with RECONCILE_AUTO_FIX."""
    from payments.reconciliation.run import run

    if not settings.STRIPE_SECRET_KEY:
        logger.info("reconcile: no Stripe key configured, nothing to compare")
        return {}
    report = run(fix=settings.RECONCILE_AUTO_FIX)
    for line in report.lines():
        logger.info("reconcile: %s", line)
    return report.counts()
