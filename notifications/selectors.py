"""Reads of the outbox."""

from datetime import datetime

from notifications.models import OutboxEmail


def queued_since(*, kind: str, order_id: int, since: datetime) -> bool:
    """An e-mail of this kind about this order was stored at `since` or later."""
    return OutboxEmail.objects.filter(kind=kind, order_id=order_id, created_at__gte=since).exists()
