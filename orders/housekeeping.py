"""Unpaid orders past their reservation are expired: the cleanup job of the orders app.

Registered with core.housekeeping (OrdersConfig.ready); `manage.py cleanup` and the beat
task run it with the other apps' jobs.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from core.errors import ShopError
from orders.models import Order, OrderStatus
from orders.services import expire_order

logger = logging.getLogger(__name__)

ORDER_BATCH_SIZE = 100


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

    def counts(self) -> dict:
        return {"orders_expired": len(self.expired), "orders_left": len(self.left)}


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
