"""Celery tasks of the project as a whole: thin wrappers over config.housekeeping."""

import logging

from celery import shared_task

from config.housekeeping import run_cleanup

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def cleanup() -> dict:
    """Beat runs this every 5 minutes; overlapping runs are safe (each order is locked)."""
    report = run_cleanup()
    for line in report.lines():
        logger.info("cleanup: %s", line.strip())
    return report.counts()


@shared_task(ignore_result=True)
def check_alerts() -> dict:
    """Beat runs this every minute; staff are told only when a condition starts or ends."""
    from config import alerts

    return alerts.check()
