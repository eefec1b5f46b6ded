"""Celery tasks of the webhook inbox: thin wrappers over payments.webhooks.processing.

Each task keeps the name it was first registered under (payments.tasks.*): the beat
schedule, queued messages and workers of an older release still find it.
"""

from celery import shared_task


@shared_task(name="payments.tasks.process_webhook_event", acks_late=True, ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    from payments.webhooks import processing

    result = processing.process(event_pk)
    if result == processing.RETRY:
        processing.retry_later(event_pk)
    return result


@shared_task(name="payments.tasks.dispatch_webhook_events", ignore_result=True)
def dispatch_webhook_events() -> int:
    from payments.webhooks import processing

    return processing.apply_pending()


@shared_task(name="payments.tasks.sweep_webhook_events", ignore_result=True)
def sweep_webhook_events() -> int:
    from payments.webhooks import processing

    return processing.sweep()
