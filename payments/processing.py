"""Applying inbox events exactly once (the Celery task's body, the sweep, replay)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from observability import logging as log_context
from observability import metrics
from observability.redaction import redact
from payments import inbox
from payments.gateway import mirror
from payments.handlers import registry
from payments.locks import claim_event
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)

RECEIVED = WebhookEvent.Status.RECEIVED
FAILED = WebhookEvent.Status.FAILED
DONE, RETRY, SKIPPED = "done", "retry", "skipped"


def backoff_seconds(attempts: int) -> float:
    return min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1),
        settings.WEBHOOK_RETRY_MAX_SECONDS,
    )


@log_context.scoped
def process(event_pk: int) -> str:
    """Apply one event: its effect and "processed" commit together, or neither does.

    A row another worker holds is skipped (skip_locked), a handled row is left alone, so
    any number of deliveries, tasks and replays apply an event once.
    """
    with transaction.atomic():
        event = claim_event(event_pk)
        if event is None:
            return SKIPPED
        event.attempts += 1
        log_context.bind(
            stripe_event_id=event.stripe_event_id, event_type=event.type, order_id=event.order_id
        )
        try:
            with transaction.atomic():
                status, note = registry.dispatch(event)
        except Exception as exc:
            waiting = isinstance(exc, registry.WaitForDependency)
            if not waiting:
                logger.exception("webhook event %s (%s) failed", event.stripe_event_id, event.type)
            # Redacted as a log line is: an exception may quote a key or an address.
            event.last_error = redact(
                f"waiting: {exc}" if waiting else f"{type(exc).__name__}: {exc}"
            )[:2000]
            if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                event.status = FAILED
                event.next_attempt_at = None
                logger.error(
                    "ALERT webhook event %s (%s) failed after %s attempts",
                    event.stripe_event_id,
                    event.type,
                    event.attempts,
                )
            else:
                event.next_attempt_at = timezone.now() + timedelta(
                    seconds=backoff_seconds(event.attempts)
                )
            event.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            metrics.record_webhook_outcome(event)
            return RETRY if event.status == RECEIVED else DONE
        event.status = status
        event.last_error = "" if status == WebhookEvent.Status.PROCESSED else note[:2000]
        event.handled_at = timezone.now()
        event.next_attempt_at = None
        event.save(
            update_fields=["attempts", "status", "last_error", "handled_at", "next_attempt_at"]
        )
        metrics.record_webhook_outcome(event)
        logger.info("webhook event %s (%s) %s", event.stripe_event_id, event.type, status)
        if status == WebhookEvent.Status.PROCESSED:
            transaction.on_commit(lambda: requeue_waiting(event))
            mirror.after_commit(event.data_object)
    return DONE


def requeue_waiting(event: WebhookEvent) -> int:
    """Events that waited for what this one recorded (same order or PaymentIntent) go again."""
    related = Q()
    if event.order_id is not None:
        related |= Q(order_id=event.order_id)
    if event.payment_intent_id:
        related |= Q(payment_intent_id=event.payment_intent_id)
    if not related:
        return 0
    waiting = list(
        WebhookEvent.objects.filter(related, status=RECEIVED, attempts__gt=0)
        .exclude(pk=event.pk)
        .order_by("stripe_created", "pk")
        .values_list("pk", flat=True)
    )
    for pk in waiting:
        inbox.enqueue(pk)
    return len(waiting)


def due_for_sweep(now=None):
    """Received events whose task was lost (broker down, worker killed) or is overdue."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    return (
        WebhookEvent.objects.filter(status=RECEIVED)
        .annotate(due=Coalesce(F("next_attempt_at"), F("received_at")))
        .filter(due__lte=cutoff)
        .order_by("received_at")
    )


def sweep(limit: int = 500) -> int:
    """Queue what lost its way: ids left on the hand-over list (their dispatcher was not
    queued), then events still "received" past the grace period. Returns the latter."""
    inbox.dispatch_pending()
    pks = list(due_for_sweep().values_list("pk", flat=True)[:limit])
    for pk in pks:
        inbox.enqueue(pk)
    if pks:
        logger.warning("webhook sweep re-queued %s event(s)", len(pks))
    return len(pks)


def reopen(queryset) -> int:
    """Put failed or ignored events back to "received" so they are processed again."""
    return queryset.exclude(status=WebhookEvent.Status.PROCESSED).update(
        status=RECEIVED, next_attempt_at=None, attempts=0
    )
