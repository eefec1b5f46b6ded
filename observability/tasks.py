"""The beat task of observability.alerts (its name predates this app: beat entries use it)."""

from celery import shared_task

from observability import alerts


@shared_task(name="config.tasks.check_alerts", ignore_result=True)
def check_alerts() -> dict:
    """Beat runs this every minute; staff are told only when a condition starts or ends."""
    return alerts.check()
