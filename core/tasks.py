"""The beat task of core.housekeeping (its name predates the core app: beat entries use it)."""

import logging

from celery import shared_task

from core.housekeeping import run_cleanup

logger = logging.getLogger(__name__)


@shared_task(name="config.tasks.cleanup", ignore_result=True)
def cleanup() -> dict:
    """Beat runs this every 5 minutes; overlapping runs are safe (each order is locked)."""
    report = run_cleanup()
    for line in report.lines():
        logger.info("cleanup: %s", line.strip())
    return report.counts()
