"""Idempotency keys past their retention are purged: the cleanup job of this app.

Registered with core.housekeeping (IdempotencyConfig.ready).
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from core.housekeeping import PurgeReport
from idempotency.models import IdempotencyKey
from idempotency.services import purge_expired


def purge_idempotency_keys(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    now = now or timezone.now()
    # The same cutoff purge_expired applies.
    cutoff = now - settings.IDEMPOTENCY_KEY_RETENTION
    if dry_run:
        count = IdempotencyKey.objects.filter(created_at__lt=cutoff).count()
    else:
        count = purge_expired(now=now)
    return PurgeReport("Idempotency keys", cutoff, count, dry_run, "idempotency_keys")
