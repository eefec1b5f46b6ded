"""Getting every stored event applied exactly once.

- handed over: `hand_over` (in the webhook request, after the event is stored; an event
  no handler applies is stored ignored and only counted, `count_stored_ignored`), the Redis
  hand-over list whose events dispatcher tasks apply in batches (`apply_pending`),
  `enqueue` (one event's processing task: retries, waiting events, the sweep);
- applied: `process`, the processing task's body, also run by replay and reconciliation;
- retried: `backoff_seconds`, `retry_later`, `requeue_waiting` (events that waited for
  the one just applied), `sweep` (beat: events whose task or batch was lost);
- replayed: `reopen`, then `process(..., last_try=True)` (payments.webhooks.replay).

Queueing and applying are one module because they call each other: applying an event
queues those that waited for it, and the queued task applies them. So this module imports
its tasks (payments.webhooks.tasks), and the tasks import it inside their functions.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import redis_client, rows
from core.context import RequestContext, current_request
from observability import logging as log_context
from observability import metrics
from observability.redaction import redact
from payments.gateway import mirror
from payments.handlers import registry
from payments.locks import claim_event
from payments.models import WebhookEvent
from payments.webhooks.tasks import dispatch_webhook_events, process_webhook_event

logger = logging.getLogger(__name__)

RECEIVED = WebhookEvent.Status.RECEIVED
FAILED = WebhookEvent.Status.FAILED
DONE, RETRY, SKIPPED = "done", "retry", "skipped"


def backoff_seconds(attempts: int) -> float:
    return min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1),
        settings.WEBHOOK_RETRY_MAX_SECONDS,
    )


class _HandlerFailed(Exception):
    """Carries a handler's exception out of the event's transaction, rolling it back."""


@log_context.scoped
def process(event_pk: int, *, last_try: bool = False) -> str:
    """Apply one event: its effect and "processed" commit together, or neither does.

    A row another worker holds is skipped (skip_locked), a handled row is left alone, so
    any number of deliveries, tasks and replays apply an event once. `last_try` (a replay
    by a person): an error fails the event at once instead of scheduling a retry, so it
    stays where that person looks (the failed events) with its error.

    The handler runs in the event's transaction itself, with no savepoint around it (two
    statements fewer per event): a handler that raises rolls the whole transaction back,
    and the error is then recorded on the row in a transaction of its own (`_record_error`).
    """
    try:
        with transaction.atomic():
            event = claim_event(event_pk)
            if event is None:
                return SKIPPED
            event.attempts += 1
            log_context.bind(
                stripe_event_id=event.stripe_event_id,
                event_type=event.type,
                order_id=event.order_id,
            )
            try:
                status, note = registry.dispatch(event)
            except Exception as exc:
                if not isinstance(exc, registry.WaitForDependency):
                    logger.exception(
                        "webhook event %s (%s) failed", event.stripe_event_id, event.type
                    )
                raise _HandlerFailed() from exc
            event.status = status
            event.last_error = "" if status == WebhookEvent.Status.PROCESSED else note[:2000]
            event.handled_at = timezone.now()
            event.next_attempt_at = None
            rows.save_fields(
                event, ["attempts", "status", "last_error", "handled_at", "next_attempt_at"]
            )
            metrics.record_webhook_outcome(event)
            logger.info("webhook event %s (%s) %s", event.stripe_event_id, event.type, status)
            if status == WebhookEvent.Status.PROCESSED:
                transaction.on_commit(lambda: requeue_waiting(event))
                mirror.after_commit(event.data_object)
    except _HandlerFailed as failed:
        return _record_error(event_pk, failed.__cause__, last_try=last_try)
    return DONE


def _record_error(event_pk: int, exc: BaseException, *, last_try: bool) -> str:
    """The handler raised and its effects were rolled back: count the attempt and keep the
    error on the row, retried with back-off or failed. The row is claimed again; if another
    worker took it meanwhile, that worker's outcome is the event's."""
    with transaction.atomic():
        event = claim_event(event_pk)
        if event is None:
            return SKIPPED
        event.attempts += 1
        waiting = isinstance(exc, registry.WaitForDependency)
        # Redacted as a log line is: an exception may quote a key or an address.
        event.last_error = redact(f"waiting: {exc}" if waiting else f"{type(exc).__name__}: {exc}")[
            :2000
        ]
        if last_try or event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
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


def requeue_waiting(event: WebhookEvent) -> int:
    """Events that waited for what this one recorded (same order or PaymentIntent) go again."""
    related, params = [], []
    if event.order_id is not None:
        related.append("order_id = %s")
        params.append(event.order_id)
    if event.payment_intent_id:
        related.append("payment_intent_id = %s")
        params.append(event.payment_intent_id)
    if not related:
        return 0
    # Asked after every applied event: SQL built here, not compiled by the ORM each time.
    waiting = rows.values(
        WebhookEvent,
        "id",
        f"({' OR '.join(related)}) AND status = %s AND attempts > 0 AND id <> %s",
        [*params, RECEIVED, event.pk],
        order_by="stripe_created, id",
    )
    for (pk,) in waiting:
        enqueue(pk)
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
    requeue_pending()
    pks = list(due_for_sweep().values_list("pk", flat=True)[:limit])
    for pk in pks:
        enqueue(pk)
    if pks:
        logger.warning("webhook sweep re-queued %s event(s)", len(pks))
    return len(pks)


def reopen(queryset) -> int:
    """Put failed or ignored events back to "received" so they are processed again."""
    return queryset.exclude(status=WebhookEvent.Status.PROCESSED).update(
        status=RECEIVED, next_attempt_at=None, attempts=0
    )


PENDING_KEY = "inbox:pending"
DISPATCH_BATCH = 100  # ids the sweep moves per Redis call
APPLY_BATCH = 20  # events one dispatcher task applies; a full batch queues the next one


def hand_over(event_pk: int, event_type: str) -> None:
    """Count a newly stored event and get it processed: one Redis round trip in the request.

    Building and publishing a Celery message was the largest cost of a delivery (bench/:
    about 0.8 of 2.8 ms CPU). With Redis and a real broker the event's id (with the
    delivery's request id, for the worker's log lines and audit entries) goes on a Redis
    list instead, in the same pipeline as its metric; only the delivery that finds the list
    empty queues the dispatcher task, which applies the events on the worker side
    (`apply_pending`). Without Redis, or with eager tasks, the event's task is queued
    directly. An id lost on the way (Redis down, a worker killed after taking it) leaves its
    event "received" in the inbox, where the sweep finds it.
    """
    from celery import current_app

    client = redis_client.client()
    if client is None or current_app.conf.task_always_eager:
        metrics.count("webhook_events_received", type=event_type)
        enqueue(event_pk)
        return
    try:
        pipeline = client.pipeline(transaction=False)
        metrics.count("webhook_events_received", type=event_type, pipeline=pipeline)
        pipeline.lpush(redis_client.key(PENDING_KEY), _pending_entry(event_pk))
        waiting = pipeline.execute()[-1]
    except Exception as exc:  # Redis unreachable: the row is safe, the sweep will queue it
        logger.warning(
            "webhook event %s stored but not handed over (%s); the sweep will queue it",
            event_pk,
            type(exc).__name__,
        )
        return
    if waiting == 1:
        _queue_dispatcher()


def count_stored_ignored(event_type: str) -> None:
    """An event of a type no handler applies, stored ignored by its INSERT: counted as
    received and ignored, as processing would have, in one Redis round trip; no task."""
    with metrics.one_round_trip() as pipeline:
        metrics.count("webhook_events_received", type=event_type, pipeline=pipeline)
        metrics.count("webhook_events_ignored", type=event_type, pipeline=pipeline)


def _queue_dispatcher() -> None:
    try:
        dispatch_webhook_events.apply_async(retry=False)
    except Exception as exc:
        logger.warning(
            "webhook dispatcher not queued (%s); the sweep will run it", type(exc).__name__
        )


def _pending_entry(event_pk: int) -> str:
    """`<event id>` or `<event id>:<request id>`: split at the first colon, since the id
    has none (a request id may have some, core.middleware)."""
    request_id = current_request.get().request_id
    return f"{event_pk}:{request_id}" if request_id else str(event_pk)


def _parse_entry(raw: bytes | str) -> tuple[int, str]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    pk, _, request_id = text.partition(":")
    return int(pk), request_id


def apply_pending() -> int:
    """The dispatcher task: apply up to APPLY_BATCH handed-over events, oldest first, each
    exactly as its own processing task would (`process`, one transaction per event).

    One task for many events spares each event a Celery message of its own (publishing it
    here, then receiving, tracing and acknowledging it: about a sixth of the worker's time
    per payment, bench/run processing --profile). A full batch queues the next dispatcher
    before applying its own, so other worker processes take the following batches at the
    same time. A worker killed mid-batch loses only ids: their events stay "received" in
    the inbox, where the sweep finds them; so does an event whose processing raised, and
    the batch goes on with the next.
    """
    client = redis_client.client()
    if client is None:
        return 0
    entries = client.rpop(redis_client.key(PENDING_KEY), APPLY_BATCH) or []
    if len(entries) == APPLY_BATCH:
        _queue_dispatcher()
    for raw in entries:
        event_pk, request_id = _parse_entry(raw)
        token = current_request.set(RequestContext(request_id=request_id or uuid.uuid4().hex))
        try:
            if process(event_pk) == RETRY:
                retry_later(event_pk)
        except Exception:
            # Not the handler (process keeps its errors on the row): the database or Redis
            # failed around it. The event stays "received" for the sweep, as it would have
            # after its own task failed, and the rest of the batch is not held up for it.
            logger.exception("webhook event %s not applied; the sweep will retry", event_pk)
        finally:
            current_request.reset(token)
    return len(entries)


def requeue_pending() -> int:
    """Queue a processing task for every id on the hand-over list, until empty (the sweep:
    ids whose dispatcher was never queued)."""
    client = redis_client.client()
    if client is None:
        return 0
    key, moved = redis_client.key(PENDING_KEY), 0
    while True:
        entries = client.rpop(key, DISPATCH_BATCH)
        if not entries:
            return moved
        for raw in entries:
            enqueue(_parse_entry(raw)[0])
        moved += len(entries)


def retry_later(event_pk: int) -> None:
    """An event that must wait (its handler raised): queued again after its back-off."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager (development without a broker): a waiting event runs again when what it
        # waits for is recorded (requeue_waiting), or through the sweep and replay.
        return
    attempts = WebhookEvent.objects.filter(pk=event_pk).values_list("attempts", flat=True)
    enqueue(event_pk, countdown=backoff_seconds(attempts.first() or 1))


def enqueue(event_pk: int, countdown: float | None = None) -> None:
    """Queue processing; if the broker is down the sweep picks the event up later."""
    try:
        process_webhook_event.apply_async((event_pk,), countdown=countdown, retry=False)
    except Exception as exc:  # broker unreachable: the row is safe, the sweep will queue it
        logger.warning(
            "webhook event %s stored but not queued (%s); the sweep will retry",
            event_pk,
            type(exc).__name__,
        )
