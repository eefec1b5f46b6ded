"""Celery tasks: thin wrappers over payments.processing."""

from celery import shared_task
from django.conf import settings

from payments import inbox, processing
from payments.models import WebhookEvent


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
def sweep_webhook_events() -> int:
    return processing.sweep()
