"""Celery tasks of the project as a whole."""

from celery import shared_task


@shared_task(ignore_result=True)
def check_alerts() -> dict:
    """Beat runs this every minute; staff are told only when a condition starts or ends."""
    from config import alerts

    return alerts.check()
