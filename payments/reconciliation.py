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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record
from core.errors import ShopError
from orders.locks import lock_order
from orders.models import Order, OrderStatus
from orders.services import expire_order
from payments.gateway import client as stripe_client
from payments.handlers.refund_outcomes import refund_status
from payments.handlers.registry import HANDLERS
from payments.handlers.review import flag_for_review
from payments.handlers.stripe_objects import names_another_shop, stripe_id
from payments.locks import lock_mismatch, lock_open_mismatch
from payments.models import (
    AttemptStatus,
    PaymentAttempt,
    ReconciliationMismatch,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from payments.services import send_refund
from payments.webhooks import inbox, processing

logger = logging.getLogger(__name__)

A = AttemptStatus
Kind = ReconciliationMismatch.Kind
ATTEMPT_KINDS = [
    Kind.PAID_AT_STRIPE,
    Kind.PAID_HERE_ONLY,
    Kind.PAYMENT_STATE,
    Kind.AMOUNT,
    Kind.REFUND,
    Kind.REFUND_UNSENT,
]

PAYMENT_INTENT_STATUS = {
    "requires_payment_method": A.REQUIRES_PAYMENT,
    "requires_confirmation": A.REQUIRES_PAYMENT,
    "requires_action": A.REQUIRES_ACTION,
    "processing": A.PROCESSING,
    "requires_capture": A.AUTHORIZED,
    "succeeded": A.SUCCEEDED,
    "canceled": A.CANCELED,
}
PAYMENT_INTENT_EVENT = {
    A.SUCCEEDED: "payment_intent.succeeded",
    A.PROCESSING: "payment_intent.processing",
    A.REQUIRES_ACTION: "payment_intent.requires_action",
    A.AUTHORIZED: "payment_intent.amount_capturable_updated",
    A.FAILED: "payment_intent.payment_failed",
    A.CANCELED: "payment_intent.canceled",
}
TRANSITION_TO = {
    A.REQUIRES_ACTION: "require_action",
    A.PROCESSING: "mark_processing",
    A.AUTHORIZED: "mark_authorized",
    A.SUCCEEDED: "mark_succeeded",
    A.FAILED: "mark_failed",
    A.CANCELED: "cancel",
}
# The Events API accepts at most this many types in one `types` filter.
EVENT_TYPES_PER_QUERY = 20
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
class Finding:
    kind: str
    subject: str
    local_state: str
    stripe_state: str
    order_id: int | None = None
    attempt_id: int | None = None
    details: dict = field(default_factory=dict)
    # Applies Stripe's truth and says what it did; None when only a person can act.
    repair: Callable[[], str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)

    def describe(self) -> str:
        return (
            f"{self.kind} {self.subject}"
            f"{f' (order {self.order_id})' if self.order_id else ''}: "
            f"here {self.local_state or '-'}, at Stripe {self.stripe_state or '-'}"
        )


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
        lines.append(
            f"Checked {len(self.checked_attempts)} payment attempt(s), "
            f"{len(self.checked_orders)} overdue order(s) and "
            f"{len(self.checked_events)} undelivered event(s) since {self.since.isoformat()}: "
            f"{len(self.found)} mismatch(es), {len(self.fixed)} fixed, "
            f"{len(self.open)} open."
        )
        return lines

    def counts(self) -> dict:
        return {
            "found": len(self.found),
            "fixed": len(self.fixed),
            "open": len(self.open),
            "errors": len(self.errors),
        }


# --- applying Stripe's truth ------------------------------------------------------------
def apply_stripe_object(event_type: str, obj: dict, *, state: str) -> str:
    """Run `obj` through the handler for `event_type`, once per (object, state)."""
    event = {
        "id": f"reconciliation:{event_type}:{obj.get('id')}:{state}"[:255],
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": int(time.time()),
        "livemode": bool(obj.get("livemode")),
        "type": event_type,
        "data": {"object": obj},
    }
    event_pk, _ = inbox.store_event(event, source=WebhookEvent.Source.RECONCILIATION)
    processing.process(event_pk)
    row = WebhookEvent.objects.get(pk=event_pk)
    return f"applied {event_type}: {row.status}" + (
        f" ({row.last_error})" if row.last_error else ""
    )


def ingest_event(event: dict) -> str:
    """Store an event Stripe could not deliver and process it like a delivery."""
    event_pk, _ = inbox.store_event(event, source=WebhookEvent.Source.EVENTS_API)
    processing.process(event_pk)
    row = WebhookEvent.objects.get(pk=event_pk)
    return f"stored and processed: {row.status}" + (
        f" ({row.last_error})" if row.last_error else ""
    )


def _flag_repair(order_id: int, reason: str, **details) -> Callable[[], str] | None:
    """Hand the order to a person (needs_review), unless it is already with one."""
    if Order.objects.filter(pk=order_id, status=OrderStatus.NEEDS_REVIEW).exists():
        return None

    def repair() -> str:
        with transaction.atomic():
            order = lock_order(order_id)
            if order.status == OrderStatus.NEEDS_REVIEW:
                return "order already in needs review"
            flag_for_review(order, reason, source="reconciliation", **details)
        return "order put in needs review"

    return repair


# --- reading Stripe ---------------------------------------------------------------------
def _fetch(operation: str, function) -> dict:
    return stripe_client.call(operation, function).to_dict(for_json=True)


def _fetch_all(operation: str, function) -> list[dict]:
    return stripe_client.call(
        operation, lambda c: [item.to_dict(for_json=True) for item in function(c)]
    )


def _payment_intent_expectation(intent: dict) -> str:
    if intent.get("status") == "requires_payment_method" and intent.get("last_payment_error"):
        return A.FAILED
    return PAYMENT_INTENT_STATUS.get(intent.get("status"), A.REQUIRES_PAYMENT)


def _session_expectation(session: dict) -> tuple[str, str | None]:
    """(the attempt status the session means, the event that carries it)."""
    if session.get("status") == "expired":
        return A.CANCELED, "checkout.session.expired"
    if session.get("status") != "complete":
        return A.REQUIRES_PAYMENT, None
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return A.SUCCEEDED, "checkout.session.completed"
    intent = session.get("payment_intent")
    if isinstance(intent, dict) and _payment_intent_expectation(intent) == A.FAILED:
        return A.FAILED, "checkout.session.async_payment_failed"
    return A.PROCESSING, "checkout.session.completed"


@dataclass(frozen=True)
class StripePayment:
    """What Stripe says about one attempt."""

    obj: dict  # the PaymentIntent or Checkout Session, as a handler reads it
    expected: str  # the attempt status it means
    event_type: str | None
    amount: int | None
    currency: str
    state: str  # for the key of the fix and for people
    payment_intent_id: str


def read_payment(attempt: PaymentAttempt) -> StripePayment:
    if attempt.kind == PaymentAttempt.Kind.CHECKOUT_SESSION:
        session = _fetch(
            "checkout.sessions.retrieve",
            lambda c: c.v1.checkout.sessions.retrieve(
                attempt.stripe_checkout_session_id, params={"expand": ["payment_intent"]}
            ),
        )
        expected, event_type = _session_expectation(session)
        intent = session.get("payment_intent")
        session_for_handler = {**session, "payment_intent": stripe_id(intent) or None}
        return StripePayment(
            obj=session_for_handler,
            expected=expected,
            event_type=event_type,
            amount=session.get("amount_total"),
            currency=session.get("currency") or "",
            state=f"{session.get('status')}/{session.get('payment_status')}",
            payment_intent_id=stripe_id(intent),
        )
    intent = _fetch(
        "payment_intents.retrieve",
        lambda c: c.v1.payment_intents.retrieve(attempt.stripe_payment_intent_id),
    )
    expected = _payment_intent_expectation(intent)
    error = intent.get("last_payment_error") or {}
    return StripePayment(
        obj=intent,
        expected=expected,
        event_type=PAYMENT_INTENT_EVENT.get(expected),
        amount=intent.get("amount_received"),
        currency=intent.get("currency") or "",
        state=f"{intent.get('status')}/{intent.get('amount_received')}"
        + (f"/{error.get('decline_code') or error.get('code')}" if error else ""),
        payment_intent_id=intent.get("id") or "",
    )


# --- comparing ------------------------------------------------------------------------
def check_attempt(attempt: PaymentAttempt) -> list[Finding]:
    """Compare one attempt (and its refunds) with Stripe; no change is made."""
    if not attempt.created_at_stripe:
        return []  # never reached Stripe: the order's expiry deals with it
    stripe = read_payment(attempt)
    common = {
        "subject": attempt.stripe_id,
        "order_id": attempt.order_id,
        "attempt_id": attempt.pk,
        "local_state": attempt.status,
        "stripe_state": stripe.state,
    }

    def apply() -> str:
        return apply_stripe_object(stripe.event_type, stripe.obj, state=stripe.state)

    local = attempt.status
    if stripe.expected == A.SUCCEEDED and local != A.SUCCEEDED:
        # A second payment for an order already paid was flagged when its event came;
        # applying it again would change nothing.
        known = attempt.failure_code == "duplicate_payment"
        return [Finding(Kind.PAID_AT_STRIPE, repair=None if known else apply, **common)]
    if local == A.SUCCEEDED and stripe.expected != A.SUCCEEDED:
        return [
            Finding(
                Kind.PAID_HERE_ONLY,
                repair=_flag_repair(
                    attempt.order_id, "paid here but not at Stripe", stripe_state=stripe.state
                ),
                **common,
            )
        ]
    if local == A.SUCCEEDED:
        findings = []
        if stripe.amount != attempt.amount_received or stripe.currency != attempt.currency:
            common["local_state"] = f"{local}/{attempt.amount_received} {attempt.currency}"
            common["stripe_state"] = f"{stripe.state} {stripe.currency}"
            findings.append(
                Finding(
                    Kind.AMOUNT,
                    repair=_flag_repair(
                        attempt.order_id,
                        "Stripe received another amount or currency",
                        stripe_state=common["stripe_state"],
                    ),
                    **common,
                )
            )
        return findings + check_refunds(attempt, stripe.payment_intent_id)
    transition = TRANSITION_TO.get(stripe.expected)
    if (
        stripe.expected != local
        and stripe.event_type
        and transition
        and can_proceed(getattr(attempt, transition))
    ):
        return [Finding(Kind.PAYMENT_STATE, repair=apply, **common)]
    return []


def check_refunds(attempt: PaymentAttempt, payment_intent_id: str) -> list[Finding]:
    at_stripe = (
        _fetch_all(
            "refunds.list",
            lambda c: c.v1.refunds.list(
                params={"payment_intent": payment_intent_id, "limit": 100}
            ).auto_paging_iter(),
        )
        if payment_intent_id
        else []
    )
    ours = list(attempt.refunds.all())
    by_id = {r.stripe_refund_id: r for r in ours if r.stripe_refund_id}
    by_uuid = {str(r.idempotency_uuid): r for r in ours if r.idempotency_uuid}
    findings = []
    for theirs in at_stripe:
        refund_uuid = (theirs.get("metadata") or {}).get("refund_uuid", "")
        local = by_id.get(theirs["id"]) or by_uuid.get(refund_uuid)
        status = refund_status(theirs)
        common = {
            "subject": theirs["id"],
            "order_id": attempt.order_id,
            "attempt_id": attempt.pk,
            "local_state": f"{local.status}/{local.amount}" if local else "missing",
            "stripe_state": f"{status}/{theirs.get('amount')}",
        }
        if local is not None and local.amount != theirs.get("amount"):
            findings.append(
                Finding(
                    Kind.REFUND,
                    repair=_flag_repair(
                        attempt.order_id, "a refund's amount differs at Stripe", refund=theirs["id"]
                    ),
                    **common,
                )
            )
        elif local is None or not local.stripe_refund_id or local.transition_to(status) is not None:
            findings.append(
                Finding(
                    Kind.REFUND,
                    repair=lambda theirs=theirs, status=status: apply_stripe_object(
                        "refund.updated", theirs, state=status
                    ),
                    **common,
                )
            )
    known_at_stripe = {theirs["id"] for theirs in at_stripe}
    unsent_before = timezone.now() - timedelta(minutes=settings.RECONCILE_REFUND_UNSENT_MINUTES)
    for local in ours:
        if local.stripe_refund_id and local.stripe_refund_id not in known_at_stripe:
            findings.append(
                Finding(
                    Kind.REFUND,
                    subject=local.stripe_refund_id,
                    order_id=attempt.order_id,
                    attempt_id=attempt.pk,
                    local_state=f"{local.status}/{local.amount}",
                    stripe_state="missing",
                    repair=_flag_repair(
                        attempt.order_id,
                        "a refund recorded here is unknown to Stripe",
                        refund=local.stripe_refund_id,
                    ),
                )
            )
        elif (
            not local.stripe_refund_id
            and local.idempotency_uuid
            and local.status == RefundStatus.PENDING
            and local.created_at < unsent_before
            and str(local.idempotency_uuid)
            not in {(t.get("metadata") or {}).get("refund_uuid") for t in at_stripe}
        ):
            findings.append(
                Finding(
                    Kind.REFUND_UNSENT,
                    subject=f"refund-{local.idempotency_uuid}",
                    order_id=attempt.order_id,
                    attempt_id=attempt.pk,
                    local_state=f"pending/{local.amount}",
                    stripe_state="missing",
                    repair=lambda local=local: _resend(local),
                )
            )
    return findings


def _resend(refund: Refund) -> str:
    sent = send_refund(refund)
    return f"sent to Stripe again with refund-{refund.idempotency_uuid}: {sent.stripe_refund_id}"


def check_overdue_order(order: Order, stuck_before: datetime) -> list[Finding]:
    if order.status != OrderStatus.PENDING_PAYMENT or order.reserved_until >= stuck_before:
        return []

    def repair() -> str:
        return "expired, stock released" if expire_order(order.pk) else "no longer due"

    return [
        Finding(
            Kind.STUCK_PENDING,
            subject=f"order-{order.pk}",
            order_id=order.pk,
            local_state=f"pending_payment, reserved until {order.reserved_until:%Y-%m-%d %H:%M}",
            stripe_state="",
            repair=repair,
        )
    ]


def _handled_types() -> list[str]:
    return sorted(HANDLERS)


def undelivered_events(since: datetime) -> list[dict]:
    types = _handled_types()
    events = []
    for start in range(0, len(types), EVENT_TYPES_PER_QUERY):
        chunk = types[start : start + EVENT_TYPES_PER_QUERY]
        events += _fetch_all(
            "events.list",
            lambda c, chunk=chunk: c.v1.events.list(
                params={
                    "delivery_success": False,
                    "created": {"gte": int(since.timestamp())},
                    "types": chunk,
                    "limit": 100,
                }
            ).auto_paging_iter(),
        )
    return events


def check_events(events: Iterable[dict]) -> list[Finding]:
    # The Events API lists every failed delivery of the account, other shops' included.
    events = [
        event
        for event in events
        if not names_another_shop(((event.get("data") or {}).get("object")) or {})
    ]
    stored = set(
        WebhookEvent.objects.filter(stripe_event_id__in=[e["id"] for e in events]).values_list(
            "stripe_event_id", flat=True
        )
    )
    return [
        Finding(
            Kind.UNDELIVERED_EVENT,
            subject=event["id"],
            local_state="not received",
            stripe_state=event.get("type", ""),
            repair=lambda event=event: ingest_event(event),
        )
        for event in events
        if event["id"] not in stored
    ]


# --- a run ----------------------------------------------------------------------------
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


def _run_checks(report: Report, scope: Scope, stuck_before: datetime) -> list[Finding]:
    findings = []
    try:
        events = undelivered_events(report.since) if scope.events is None else scope.events
        report.checked_events |= {event["id"] for event in events}
        findings += check_events(events)
    except ShopError as exc:
        report.errors.append(f"events: {exc.code}: {exc.message}")
    unreadable_orders = set()
    for attempt in scope.attempts:
        attempt.refresh_from_db()
        try:
            findings += check_attempt(attempt)
            report.checked_attempts.add(attempt.pk)
        except ShopError as exc:
            unreadable_orders.add(attempt.order_id)
            report.errors.append(f"attempt {attempt.stripe_id}: {exc.code}: {exc.message}")
    for order in scope.orders:
        order.refresh_from_db()
        report.checked_orders.add(order.pk)
        for finding in check_overdue_order(order, stuck_before):
            if order.pk in unreadable_orders:
                # Its payment may have gone through at Stripe: expiring it now could
                # take money for an order we then cancel. Next run, when Stripe answers.
                finding.repair = None
            findings.append(finding)
    return [finding for finding in findings if not _acknowledged(finding)]


def run(
    *,
    since_hours: float | None = None,
    fix: bool = False,
    actor=None,
    scope: Scope | None = None,
) -> Report:
    """Check (and with `fix`, repair) then record what differs as mismatches."""
    now = timezone.now()
    hours = settings.RECONCILE_WINDOW_HOURS if since_hours is None else since_hours
    since = now - timedelta(hours=hours)
    stuck_before = now - timedelta(minutes=settings.RECONCILE_STUCK_AFTER_MINUTES)
    scope = scope or recent_scope(since, stuck_before)
    report = Report(fix=fix, since=since)
    current = _run_checks(report, scope, stuck_before)
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


# --- one mismatch, from the admin ------------------------------------------------------
def fix_mismatch(mismatch: ReconciliationMismatch, *, staff_user) -> Report:
    """Look at one mismatch's subject again and apply Stripe's truth to it."""
    if mismatch.kind == Kind.UNDELIVERED_EVENT:
        event = _fetch("events.retrieve", lambda c: c.v1.events.retrieve(mismatch.subject))
        scope = Scope(attempts=[], orders=[], events=[event])
    elif mismatch.kind == Kind.STUCK_PENDING:
        scope = Scope(attempts=[], orders=[mismatch.order], events=[])
    else:
        scope = Scope(attempts=[mismatch.attempt], orders=[], events=[])
    report = run(fix=True, actor=staff_user, scope=scope)
    mismatch.refresh_from_db()
    return report


def acknowledge(mismatch: ReconciliationMismatch, *, staff_user, note: str) -> None:
    """A person dealt with it (refunded, contacted the shopper...): close it for good."""
    with transaction.atomic():
        row = lock_mismatch(mismatch.pk)
        if row.resolved_at is not None:
            return
        row.resolved_at = timezone.now()
        row.resolved_by = staff_user
        row.resolution = f"acknowledged: {note}"[:255]
        row.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        record(
            "reconciliation.acknowledged",
            actor=staff_user,
            obj=row,
            order=row.order_id,
            details={"kind": row.kind, "subject": row.subject, "note": note[:255]},
        )
