"""Reconciliation: our orders, attempts and refunds against Stripe's truth.

A run checks, and with `fix` repairs, in this order:

1. events Stripe could not deliver (Events API, `delivery_success=false`): stored in the
   inbox and processed like a delivery, the most exact repair there is;
2. each payment attempt touched in the window, belonging to an order past its reservation,
   or named by an open mismatch: its PaymentIntent or Checkout Session, then its refunds;
3. orders still `pending_payment` past their reservation.

A fix applies the Stripe object through the webhook handlers (an inbox row whose source is
"reconciliation", keyed by object and state so the same truth is applied once), so the
state machines, locks, audit entries and e-mails are those of a delivered event. What no
state machine may do (un-pay an order, change a refund's amount) puts the order in
`needs_review` for a person, who marks the mismatch resolved once it is dealt with.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import record
from core.errors import ShopError
from orders.models import Order, OrderStatus
from payments.locks import lock_open_mismatch
from payments.models import PaymentAttempt, ReconciliationMismatch
from payments.reconciliation.checks import (
    Finding,
    check_attempt,
    check_events,
    check_overdue_order,
)
from payments.reconciliation.reads import undelivered_events

logger = logging.getLogger(__name__)

Kind = ReconciliationMismatch.Kind
ATTEMPT_KINDS = [
    Kind.PAID_AT_STRIPE,
    Kind.PAID_HERE_ONLY,
    Kind.PAYMENT_STATE,
    Kind.AMOUNT,
    Kind.REFUND,
    Kind.REFUND_UNSENT,
]
# Repairs go in this order, with a fresh look at Stripe after each stage.
REPAIR_STAGE = {
    Kind.UNDELIVERED_EVENT: 0,
    Kind.PAID_AT_STRIPE: 1,
    Kind.PAYMENT_STATE: 1,
    Kind.PAID_HERE_ONLY: 1,
    Kind.AMOUNT: 1,
    Kind.REFUND: 2,
    Kind.REFUND_UNSENT: 2,
    Kind.STUCK_PENDING: 3,
}
MAX_FIX_PASSES = 6


@dataclass
class Report:
    fix: bool
    since: datetime
    found: list[Finding] = field(default_factory=list)
    fixed: dict[tuple[str, str], str] = field(default_factory=dict)  # key → what was done
    unfixed: dict[tuple[str, str], str] = field(default_factory=dict)  # key → why not
    errors: list[str] = field(default_factory=list)
    checked_attempts: set[int] = field(default_factory=set)
    checked_orders: set[int] = field(default_factory=set)
    checked_events: set[str] = field(default_factory=set)
    resolved_elsewhere: int = 0
    left_by_limit: int = 0  # attempts and orders in the window a `limit` left unchecked

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.found if f.key not in self.fixed]

    def lines(self) -> list[str]:
        lines = []
        for finding in self.found:
            lines.append(f"MISMATCH {finding.describe()}")
            if finding.key in self.fixed:
                lines.append(f"  fixed: {self.fixed[finding.key]}")
            elif finding.key in self.unfixed:
                lines.append(f"  not fixed: {self.unfixed[finding.key]}")
        lines += [f"ERROR {error}" for error in self.errors]
        lines.append(self.summary())
        return lines

    def summary(self) -> str:
        left = f" ({self.left_by_limit} left by the limit)" if self.left_by_limit else ""
        return (
            f"Checked {len(self.checked_attempts)} payment attempt(s), "
            f"{len(self.checked_orders)} overdue order(s){left} and "
            f"{len(self.checked_events)} undelivered event(s) since {self.since.isoformat()}: "
            f"{len(self.found)} mismatch(es), {len(self.fixed)} fixed, "
            f"{len(self.open)} open, {len(self.errors)} error(s)."
        )

    def counts(self) -> dict:
        return {
            "found": len(self.found),
            "fixed": len(self.fixed),
            "open": len(self.open),
            "errors": len(self.errors),
        }


@dataclass
class Scope:
    """What one run looks at: everything recent, or the subject of one mismatch."""

    attempts: list[PaymentAttempt]
    orders: list[Order]
    events: list[dict] | None  # None: ask Stripe for the undelivered ones


def recent_scope(since: datetime, stuck_before: datetime) -> Scope:
    overdue = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, reserved_until__lt=stuck_before
    )
    still_open = ReconciliationMismatch.objects.filter(resolved_at__isnull=True)
    attempts = (
        PaymentAttempt.objects.filter(
            Q(updated_at__gte=since)
            | Q(order__in=overdue)
            | Q(pk__in=still_open.exclude(attempt=None).values("attempt_id"))
        )
        .exclude(stripe_checkout_session_id=None, stripe_payment_intent_id=None)
        .select_related("order")
        .order_by("pk")
    )
    orders = Order.objects.filter(
        Q(pk__in=overdue.values("pk"))
        | Q(pk__in=still_open.filter(kind=Kind.STUCK_PENDING).values("order_id"))
    ).order_by("pk")
    return Scope(attempts=list(attempts), orders=list(orders), events=None)


def limited(scope: Scope, limit: int | None) -> tuple[Scope, int]:
    """At most `limit` attempts and orders together, in id order: (scope, how many left)."""
    if limit is None:
        return scope, 0
    attempts = scope.attempts[:limit]
    orders = scope.orders[: max(0, limit - len(attempts))]
    left = len(scope.attempts) + len(scope.orders) - len(attempts) - len(orders)
    return Scope(attempts=attempts, orders=orders, events=scope.events), left


# Called with one line per object checked, for a command's progress.
Progress = Callable[[str], None]


def _noting(findings: list[Finding]) -> str:
    return f"{len(findings)} mismatch(es)" if findings else "ok"


def _run_checks(
    report: Report, scope: Scope, stuck_before: datetime, progress: Progress | None = None
) -> list[Finding]:
    note = progress or (lambda line: None)
    total = len(scope.attempts) + len(scope.orders)
    findings = []
    try:
        events = undelivered_events(report.since) if scope.events is None else scope.events
        report.checked_events |= {event["id"] for event in events}
        from_events = check_events(events)
        findings += from_events
        note(f"undelivered events at Stripe: {len(events)}, {_noting(from_events)}")
    except ShopError as exc:
        report.errors.append(f"events: {exc.code}: {exc.message}")
        note(f"undelivered events at Stripe: error {exc.code}")
    unreadable_orders = set()
    for position, attempt in enumerate(scope.attempts, start=1):
        attempt.refresh_from_db()
        try:
            found = check_attempt(attempt)
            findings += found
            report.checked_attempts.add(attempt.pk)
            outcome = _noting(found)
        except ShopError as exc:
            unreadable_orders.add(attempt.order_id)
            report.errors.append(f"attempt {attempt.stripe_id}: {exc.code}: {exc.message}")
            outcome = f"error {exc.code}"
        note(f"[{position}/{total}] payment attempt {attempt.pk} ({attempt.stripe_id}): {outcome}")
    for position, order in enumerate(scope.orders, start=len(scope.attempts) + 1):
        order.refresh_from_db()
        report.checked_orders.add(order.pk)
        found = check_overdue_order(order, stuck_before)
        for finding in found:
            if order.pk in unreadable_orders:
                # Its payment may have gone through at Stripe: expiring it now could
                # take money for an order we then cancel. Next run, when Stripe answers.
                finding.repair = None
            findings.append(finding)
        note(f"[{position}/{total}] overdue order {order.number}: {_noting(found)}")
    return [finding for finding in findings if not _acknowledged(finding)]


def run(
    *,
    since_hours: float | None = None,
    fix: bool = False,
    actor=None,
    scope: Scope | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check (and with `fix`, repair) then record what differs as mismatches.

    `limit`: at most that many payment attempts and overdue orders (together, in id order);
    `progress` is told each object checked in the first look.
    """
    now = timezone.now()
    hours = settings.RECONCILE_WINDOW_HOURS if since_hours is None else since_hours
    since = now - timedelta(hours=hours)
    stuck_before = now - timedelta(minutes=settings.RECONCILE_STUCK_AFTER_MINUTES)
    scope, left = limited(scope or recent_scope(since, stuck_before), limit)
    report = Report(fix=fix, since=since, left_by_limit=left)
    if progress is not None:
        progress(
            f"Checking {len(scope.attempts)} payment attempt(s) and {len(scope.orders)} "
            f"overdue order(s) since {since.isoformat()}"
            + (f" ({left} left by the limit)" if left else "")
        )
    current = _run_checks(report, scope, stuck_before, progress)
    report.found = list(current)
    if fix:
        tried: dict[tuple[str, str], str] = {}
        # Stage by stage, looking again after each: a delivered event may settle what a
        # payment check found, and a payment put right may reveal its refunds.
        for _ in range(MAX_FIX_PASSES):
            to_repair = [f for f in current if f.repair is not None and f.key not in tried]
            if not to_repair:
                break
            stage = min(REPAIR_STAGE[f.kind] for f in to_repair)
            for finding in to_repair:
                if REPAIR_STAGE[finding.kind] != stage:
                    continue
                try:
                    tried[finding.key] = finding.repair()
                except ShopError as exc:
                    tried[finding.key] = f"failed: {exc.code}: {exc.message}"
            current = _run_checks(Report(fix=False, since=since), scope, stuck_before)
            known = {f.key for f in report.found}
            report.found += [f for f in current if f.key not in known]
        still = {f.key for f in current}
        for finding in report.found:
            if finding.key in tried and finding.key not in still:
                report.fixed[finding.key] = tried[finding.key]
            elif finding.key not in still:
                report.fixed[finding.key] = "settled by an earlier fix"
            elif finding.key in tried:
                report.unfixed[finding.key] = tried[finding.key]
            else:
                report.unfixed[finding.key] = "needs a person"
    _record(report, actor=actor)
    return report


def _record(report: Report, *, actor) -> None:
    now = timezone.now()
    found_keys = set()
    for finding in report.found:
        found_keys.add(finding.key)
        with transaction.atomic():
            row = lock_open_mismatch(finding.kind, finding.subject) or ReconciliationMismatch(
                kind=finding.kind, subject=finding.subject
            )
            row.order_id = finding.order_id
            row.attempt_id = finding.attempt_id
            row.local_state = finding.local_state[:255]
            row.stripe_state = finding.stripe_state[:255]
            row.details = finding.details
            row.last_seen_at = now
            if finding.key in report.fixed:
                row.resolved_at = now
                row.resolution = f"fixed: {report.fixed[finding.key]}"[:255]
                row.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
            row.save()
            if finding.key in report.fixed:
                record(
                    "reconciliation.fixed",
                    actor=actor,
                    actor_label="" if actor else "reconcile",
                    obj=row,
                    order=finding.order_id,
                    details={
                        "kind": finding.kind,
                        "subject": finding.subject,
                        "local": finding.local_state,
                        "stripe": finding.stripe_state,
                        "done": report.fixed[finding.key],
                    },
                )
    # What was looked at again and no longer differs is resolved.
    looked_at = (
        Q(kind__in=ATTEMPT_KINDS, attempt_id__in=report.checked_attempts)
        | Q(kind=Kind.STUCK_PENDING, order_id__in=report.checked_orders)
        | Q(kind=Kind.UNDELIVERED_EVENT, subject__in=report.checked_events)
    )
    gone = ReconciliationMismatch.objects.filter(looked_at, resolved_at__isnull=True)
    for row in gone:
        if (row.kind, row.subject) not in found_keys:
            row.resolved_at = now
            row.resolution = "no longer differs"
            row.save(update_fields=["resolved_at", "resolution"])
            report.resolved_elsewhere += 1
    if report.found or report.errors:
        logger.warning(
            "reconcile: %s mismatch(es), %s fixed, %s open, %s error(s)",
            len(report.found),
            len(report.fixed),
            len(report.open),
            len(report.errors),
        )


def _acknowledged(finding: Finding) -> bool:
    """A person already resolved exactly this difference: do not raise it again."""
    return ReconciliationMismatch.objects.filter(
        kind=finding.kind,
        subject=finding.subject,
        local_state=finding.local_state[:255],
        stripe_state=finding.stripe_state[:255],
        resolved_by__isnull=False,
        resolution__startswith="acknowledged",
    ).exists()
