"""Celery task of the Stripe gateway: the read-only mirror (payments.gateway.mirror).

The task keeps the name it was first registered under (payments.tasks.*): queued
messages and workers of an older release still find it.
"""

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(
    name="payments.tasks.mirror_stripe_object",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=3,
)
def mirror_stripe_object(self, obj: dict) -> str:
    """Copy a Stripe object into dj-stripe's tables (and a PaymentIntent's charge)."""
    from payments.gateway import mirror

    try:
        mirror.mirror_object(obj)
        if obj.get("object") == "payment_intent" and isinstance(obj.get("latest_charge"), str):
            mirror.mirror_charge(obj["latest_charge"])
    except Exception as exc:
        if self.request.retries < self.max_retries and not settings.CELERY_TASK_ALWAYS_EAGER:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
        logger.warning(
            "stripe mirror of %s %s failed (%s); the books are unaffected",
            obj.get("object"),
            obj.get("id"),
            type(exc).__name__,
        )
        return "failed"
    return "mirrored"
