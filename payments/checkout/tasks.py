"""Celery tasks of the decline limits; each imports its service inside the task function.

The names are those the tasks had in payments/tasks.py (beat and queued messages use them).
"""

from celery import shared_task
from django.conf import settings


@shared_task(
    name="payments.tasks.enforce_decline_limits",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=6,
)
def enforce_decline_limits(self, decline_pk: int) -> str:
    """After a decline committed: close at Stripe the open payments a tripped limit covers.

    Closing is idempotent (Stripe's "already closed" counts as done), so a retry or a
    second task repeats nothing. What is still open after the last retry is closed by the
    beat sweep below.
    """
    from payments.checkout import declines

    closed, failed = declines.enforce(decline_pk)
    if failed and not settings.CELERY_TASK_ALWAYS_EAGER and self.request.retries < self.max_retries:
        raise self.retry(countdown=15 * 2**self.request.retries)
    return f"{closed} closed, {failed} failed"


@shared_task(name="payments.tasks.close_blocked_payments", ignore_result=True)
def close_blocked_payments() -> str:
    """Beat, every minute: the kill switch and the decline limits, applied at Stripe."""
    from payments.checkout import declines

    closed, failed = declines.close_blocked()
    return f"{closed} closed, {failed} failed"
