"""Handled webhook events past their retention are pruned: the cleanup job of payments.

Registered with core.housekeeping (PaymentsConfig.ready).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.housekeeping import PurgeReport
from payments.models import WebhookEvent

WEBHOOK_EVENT_BATCH_SIZE = 1000
# Only events whose effect is committed may go; received and failed ones still matter.
PRUNABLE_EVENT_STATUSES = [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED]


def prune_webhook_events(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = WEBHOOK_EVENT_BATCH_SIZE,
) -> PurgeReport:
    """Delete processed and ignored events handled longer ago than the retention.

    Received and failed events are never deleted, however old: they are work still owed.
    Deleted in batches so that no single statement holds many row locks for long.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    prunable = WebhookEvent.objects.filter(
        status__in=PRUNABLE_EVENT_STATUSES, handled_at__lt=cutoff
    ).order_by()
    what = "Handled webhook events"
    if dry_run:
        return PurgeReport(what, cutoff, prunable.count(), dry_run, "webhook_events")
    deleted = 0
    while True:
        pks = list(prunable.values_list("pk", flat=True)[:batch_size])
        if pks:
            # The conditions apply again: a row replayed meanwhile is no longer prunable.
            count, _ = prunable.filter(pk__in=pks).delete()
            deleted += count
        if len(pks) < batch_size:
            return PurgeReport(what, cutoff, deleted, dry_run, "webhook_events")
