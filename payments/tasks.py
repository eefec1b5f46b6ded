"""Celery tasks: thin wrappers over payments.processing, payments.inbox and payments.mirror."""

import logging

from celery import shared_task
from django.conf import settings

from payments import inbox, mirror, processing
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


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=3)
def mirror_stripe_object(self, obj: dict) -> str:
    """Copy a Stripe object into dj-stripe's tables (and a PaymentIntent's charge)."""
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
