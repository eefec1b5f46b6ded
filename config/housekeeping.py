"""Periodic housekeeping that spans the apps: `manage.py cleanup` and the beat task.

Each step returns a report and prints nothing; the command and the task decide how to show
it. A dry run reads what a real run would touch and changes nothing (Stripe included).
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.errors import ShopError
from idempotency.models import IdempotencyKey
from idempotency.services import purge_expired
from orders.models import Order, OrderStatus
from orders.services import expire_order
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)

ORDER_BATCH_SIZE = 100
WEBHOOK_EVENT_BATCH_SIZE = 1000
# Only events whose effect is committed may go; received and failed ones still matter.
PRUNABLE_EVENT_STATUSES = [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED]


@dataclass(frozen=True)
class LeftOrder:
    """An overdue order this run could not expire; the next run tries again."""

    number: str
    code: str
    message: str


@dataclass
class OrderExpiryReport:
    dry_run: bool
    expired: list[str] = field(default_factory=list)  # numbers (dry run: would expire)
    left: list[LeftOrder] = field(default_factory=list)
    # Overdue when listed, but paid or cancelled by the time it was locked.
    no_longer_due: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.dry_run:
            lines = [f"Orders past their reservation: {len(self.expired)} would be expired."]
            return lines + [f"  would expire {number}" for number in self.expired]
        lines = [
            f"Orders past their reservation: {len(self.expired)} expired, "
            f"{len(self.left)} left for the next run, "
            f"{len(self.no_longer_due)} no longer due."
        ]
        lines += [f"  expired {number}" for number in self.expired]
        lines += [
            f"  left for the next run {left.number} ({left.code}): {left.message}"
            for left in self.left
        ]
        lines += [f"  no longer due {number}" for number in self.no_longer_due]
        return lines


@dataclass(frozen=True)
class PurgeReport:
    what: str
    cutoff: datetime
    count: int
    dry_run: bool

    def lines(self) -> list[str]:
        verb = "would be deleted" if self.dry_run else "deleted"
        return [f"{self.what} older than {self.cutoff.isoformat()}: {self.count} {verb}."]


@dataclass(frozen=True)
class CleanupReport:
    orders: OrderExpiryReport
    idempotency_keys: PurgeReport
    webhook_events: PurgeReport

    @property
    def dry_run(self) -> bool:
        return self.orders.dry_run

    def lines(self) -> list[str]:
        header = ["Dry run: nothing is changed and Stripe is not called."] if self.dry_run else []
        return (
            header
            + self.orders.lines()
            + self.idempotency_keys.lines()
            + self.webhook_events.lines()
        )

    def counts(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "orders_expired": len(self.orders.expired),
            "orders_left": len(self.orders.left),
            "idempotency_keys_deleted": self.idempotency_keys.count,
            "webhook_events_deleted": self.webhook_events.count,
        }


# --- orders past their reservation ---------------------------------------------------
def overdue_order_batches(
    now: datetime, batch_size: int = ORDER_BATCH_SIZE
) -> Iterator[list[tuple[int, str]]]:
    """(id, number) of unpaid orders whose reservation ran out before `now`, oldest first.

    Keyset pagination on (reserved_until, id): no OFFSET, and an order this run leaves
    behind (Stripe down) is not read again, whatever happens to the orders before it.
    """
    overdue = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, reserved_until__lt=now
    ).order_by("reserved_until", "pk")
    after: tuple[datetime, int] | None = None
    while True:
        page = overdue
        if after is not None:
            page = page.filter(
                Q(reserved_until__gt=after[0]) | Q(reserved_until=after[0], pk__gt=after[1])
            )
        rows = list(page.values_list("pk", "number", "reserved_until")[:batch_size])
        if rows:
            yield [(pk, number) for pk, number, _ in rows]
        if len(rows) < batch_size:
            return
        after = (rows[-1][2], rows[-1][0])


def expire_overdue_orders(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = ORDER_BATCH_SIZE
) -> OrderExpiryReport:
    """Expire each unpaid order past its reservation, one transaction per order.

    `expire_order` locks the order and checks again, so a shopper cancelling or paying at
    the same moment wins or loses cleanly. An order that cannot be expired now (Stripe
    unreachable, a payment in flight) stays as it is and is reported; the others go on.
    """
    now = now or timezone.now()
    report = OrderExpiryReport(dry_run=dry_run)
    for batch in overdue_order_batches(now, batch_size):
        for order_id, number in batch:
            if dry_run:
                report.expired.append(number)
                continue
            try:
                expired = expire_order(order_id)
            except ShopError as exc:
                logger.warning("cleanup: order %s not expired (%s): %s", number, exc.code, exc)
                report.left.append(LeftOrder(number, exc.code, exc.message))
                continue
            except Exception:
                # One broken order must not keep every later order reserved for ever.
                logger.exception("cleanup: order %s not expired (unexpected error)", number)
                report.left.append(
                    LeftOrder(number, "unexpected_error", "see the log for the traceback")
                )
                continue
            (report.expired if expired else report.no_longer_due).append(number)
    return report


# --- idempotency keys ----------------------------------------------------------------
def purge_idempotency_keys(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    now = now or timezone.now()
    # The same cutoff purge_expired applies.
    cutoff = now - settings.IDEMPOTENCY_KEY_RETENTION
    if dry_run:
        count = IdempotencyKey.objects.filter(created_at__lt=cutoff).count()
    else:
        count = purge_expired(now=now)
    return PurgeReport("Idempotency keys", cutoff, count, dry_run)


# --- webhook events ------------------------------------------------------------------
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
        return PurgeReport(what, cutoff, prunable.count(), dry_run)
    deleted = 0
    while True:
        pks = list(prunable.values_list("pk", flat=True)[:batch_size])
        if pks:
            # The conditions apply again: a row replayed meanwhile is no longer prunable.
            count, _ = prunable.filter(pk__in=pks).delete()
            deleted += count
        if len(pks) < batch_size:
            return PurgeReport(what, cutoff, deleted, dry_run)


def run_cleanup(*, dry_run: bool = False, now: datetime | None = None) -> CleanupReport:
    now = now or timezone.now()
    return CleanupReport(
        orders=expire_overdue_orders(now=now, dry_run=dry_run),
        idempotency_keys=purge_idempotency_keys(now=now, dry_run=dry_run),
        webhook_events=prune_webhook_events(now=now, dry_run=dry_run),
    )
