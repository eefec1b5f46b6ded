"""Celery tasks of the outbox. Their names are the ones they had under payments, which
queued messages and beat's schedule (send-unsent-emails) still carry."""

from celery import shared_task


@shared_task(name="payments.tasks.send_outbox_email", acks_late=True, ignore_result=True)
def send_outbox_email(pk: int) -> str:
    from notifications import services

    return services.send(pk)


@shared_task(name="payments.tasks.send_unsent_emails", ignore_result=True)
def send_unsent_emails() -> int:
    """Beat, every minute: e-mails a dead worker or a lost task left unsent."""
    from notifications import services

    return services.send_unsent()
