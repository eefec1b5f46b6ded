"""The dashboard's numbers. Each is one query over an indexed range or a small set, never
a scan of a whole big table (bench/scale loads 1 M orders and 2 M webhook events):

- orders: `created_at` (indexed), the last 7 days;
- payment attempts and refunds: `created_at` (indexed, payments migration 0010);
- disputes: the open ones (`status`, indexed), a small set;
- webhook events: `status = 'failed'`, the (status, received_at) index;
- reconciliation mismatches: the open ones, `resolved_at IS NULL` (indexed).

Days are the site's time zone's (settings.TIME_ZONE), today included.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import Order, OrderStatus
from payments.models import (
    DISPUTE_OPEN,
    AttemptStatus,
    Dispute,
    PaymentAttempt,
    ReconciliationMismatch,
    Refund,
    RefundStatus,
    WebhookEvent,
)

DAYS = 7
# Orders whose money was taken, whatever happened after (refunds, disputes).
PAID_STATES = [
    OrderStatus.PAID,
    OrderStatus.FULFILLED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.REFUNDED,
    OrderStatus.DISPUTED,
    OrderStatus.CHARGED_BACK,
]


@dataclass(frozen=True)
class Period:
    now: datetime
    today: datetime  # midnight today
    week: datetime  # midnight DAYS - 1 days ago
    tomorrow: datetime

    @property
    def days(self) -> list[date]:
        return [(self.week + timedelta(days=n)).date() for n in range(DAYS)]

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of `day`, one of `days`."""
        return self.week + timedelta(days=(day - self.week.date()).days)


def period(now: datetime | None = None) -> Period:
    now = timezone.localtime(now or timezone.now())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(now, today, today - timedelta(days=DAYS - 1), today + timedelta(days=1))


def paid_volume(p: Period) -> dict[str, dict[date, tuple[int, int]]]:
    """{currency: {day: (orders, total in minor units)}} for paid orders placed in the
    last DAYS days; days without orders are absent."""
    rows = (
        Order.objects.filter(
            created_at__gte=p.week, created_at__lt=p.tomorrow, status__in=PAID_STATES
        )
        .annotate(day=TruncDate("created_at"))
        .values("currency", "day")
        .annotate(orders=Count("id"), total=Sum("total"))
        .order_by()
    )
    volume: dict[str, dict[date, tuple[int, int]]] = {}
    for row in rows:
        volume.setdefault(row["currency"], {})[row["day"]] = (row["orders"], row["total"])
    return volume


def attempt_outcomes(p: Period) -> dict[str, int]:
    """Payment attempts made today and in the last DAYS days, succeeded and failed."""
    succeeded, failed = Q(status=AttemptStatus.SUCCEEDED), Q(status=AttemptStatus.FAILED)
    today = Q(created_at__gte=p.today)
    return PaymentAttempt.objects.filter(created_at__gte=p.week).aggregate(
        succeeded_today=Count("id", filter=succeeded & today),
        failed_today=Count("id", filter=failed & today),
        succeeded_week=Count("id", filter=succeeded),
        failed_week=Count("id", filter=failed),
    )


def refunds_this_week(p: Period) -> dict[str, dict[str, int]]:
    """{currency: {"count", "amount", "failed"}}: refunds asked for in the last DAYS days;
    count and amount are those not failed or canceled (pending ones included)."""
    given = ~Q(status__in=[RefundStatus.FAILED, RefundStatus.CANCELED])
    rows = (
        Refund.objects.filter(created_at__gte=p.week)
        .values("currency")
        .annotate(
            count=Count("id", filter=given),
            amount=Sum("amount", filter=given, default=0),
            failed=Count("id", filter=~given),
        )
        .order_by("currency")
    )
    return {row.pop("currency"): row for row in rows}


# Open disputes by evidence due date: (key, label, from, to) in days from now.
DUE_BUCKETS = [
    ("overdue", "overdue", None, 0),
    ("1d", "within 24 h", 0, 1),
    ("3d", "1-3 days", 1, 3),
    ("7d", "3-7 days", 3, 7),
    ("later", "later", 7, None),
]


def due_range(p: Period, start: int | None, end: int | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(evidence_due_by__gte=p.now + timedelta(days=start))
    if end is not None:
        q &= Q(evidence_due_by__lt=p.now + timedelta(days=end))
    return q


def open_disputes_by_due_date(p: Period) -> dict[str, int]:
    """Open disputes counted per DUE_BUCKETS key, and "no_date" (an inquiry without one)."""
    buckets = {
        key: Count("id", filter=due_range(p, start, end)) for key, _, start, end in DUE_BUCKETS
    }
    return Dispute.objects.filter(status__in=DISPUTE_OPEN).aggregate(
        **buckets, no_date=Count("id", filter=Q(evidence_due_by__isnull=True))
    )


def failed_webhook_events(p: Period) -> dict:
    """Failed events: how many in all, and per day received over the last DAYS days."""
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
    per_day = dict(
        failed.filter(received_at__gte=p.week)
        .annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    return {"total": failed.count(), "per_day": per_day}


def open_mismatches(p: Period) -> dict[str, int]:
    """Open reconciliation mismatches per kind."""
    rows = (
        ReconciliationMismatch.objects.filter(resolved_at__isnull=True)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    return {row["kind"]: row["n"] for row in rows}
