"""Comparing our rows with what Stripe says. Each check returns findings and changes
nothing; a finding carries the repair that applies Stripe's truth (payments.reconciliation.
repairs), or none when only a person can act."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_fsm import can_proceed

from catalog.money import format_amount
from orders.models import Order, OrderStatus
from orders.services import expire_order
from payments.handlers.refund_outcomes import refund_status
from payments.handlers.stripe_objects import names_another_shop
from payments.models import (
    AttemptStatus,
    PaymentAttempt,
    ReconciliationMismatch,
    RefundStatus,
    WebhookEvent,
)
from payments.reconciliation.reads import read_payment, refunds_at_stripe
from payments.reconciliation.repairs import apply_stripe_object, flag_repair, ingest_event, resend

A = AttemptStatus
Kind = ReconciliationMismatch.Kind
TRANSITION_TO = {
    A.REQUIRES_ACTION: "require_action",
    A.PROCESSING: "mark_processing",
    A.AUTHORIZED: "mark_authorized",
    A.SUCCEEDED: "mark_succeeded",
    A.FAILED: "mark_failed",
    A.CANCELED: "cancel",
}


def money(amount, currency) -> str:
    """An amount as staff read it everywhere (19.99 USD); what Stripe sent when it is not
    a usable amount."""
    if isinstance(amount, int) and isinstance(currency, str) and currency:
        return format_amount(amount, currency.lower())
    return f"{amount} {currency or ''}".strip()


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
                repair=flag_repair(
                    attempt.order_id, "paid here but not at Stripe", stripe_state=stripe.state
                ),
                **common,
            )
        ]
    if local == A.SUCCEEDED:
        findings = []
        if stripe.amount != attempt.amount_received or stripe.currency != attempt.currency:
            common["local_state"] = f"{local}, {money(attempt.amount_received, attempt.currency)}"
            common["stripe_state"] = (
                f"{stripe.obj.get('status')}, {money(stripe.amount, stripe.currency)}"
            )
            findings.append(
                Finding(
                    Kind.AMOUNT,
                    repair=flag_repair(
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
    at_stripe = refunds_at_stripe(payment_intent_id)
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
            "local_state": f"{local.status}, {money(local.amount, local.currency)}"
            if local
            else "missing",
            "stripe_state": f"{status}, {money(theirs.get('amount'), theirs.get('currency'))}",
        }
        if local is not None and local.amount != theirs.get("amount"):
            findings.append(
                Finding(
                    Kind.REFUND,
                    repair=flag_repair(
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
                    local_state=f"{local.status}, {money(local.amount, local.currency)}",
                    stripe_state="missing",
                    repair=flag_repair(
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
                    local_state=f"pending, {money(local.amount, local.currency)}",
                    stripe_state="missing",
                    repair=lambda local=local: resend(local),
                )
            )
    return findings


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
