"""Celery tasks of the webhook inbox: thin wrappers over payments.webhooks.processing.

Each task keeps the name it was first registered under (payments.tasks.*): the beat
schedule, queued messages and workers of an older release still find it.
"""

from celery import shared_task
from django.conf import settings

from payments.models import WebhookEvent


@shared_task(name="payments.tasks.process_webhook_event", acks_late=True, ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    from payments.webhooks import processing

    result = processing.process(event_pk)
    if result == processing.RETRY and not settings.CELERY_TASK_ALWAYS_EAGER:
        attempts = WebhookEvent.objects.filter(pk=event_pk).values_list("attempts", flat=True)
        countdown = processing.backoff_seconds(attempts.first() or 1)
        processing.enqueue(event_pk, countdown=countdown)
    # In eager mode (development without a broker) a waiting event runs again when what it
    # waits for is recorded (processing.requeue_waiting), or through the sweep and replay.
    return result


@shared_task(name="payments.tasks.dispatch_webhook_events", ignore_result=True)
def dispatch_webhook_events() -> int:
    from payments.webhooks import processing

    return processing.dispatch_pending()


@shared_task(name="payments.tasks.sweep_webhook_events", ignore_result=True)
def sweep_webhook_events() -> int:
    from payments.webhooks import processing

    return processing.sweep()
