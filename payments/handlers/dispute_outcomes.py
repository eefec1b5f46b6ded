"""What Stripe's news does to a dispute: the row created or moved through its state machine
(a closed dispute never reopens), where the funds are, and what it does to the order
(orders.payment_outcomes). The order and the paid attempt are locked by the caller.

The news is an event's dispute, or Stripe's answer to a staff response
(payments.disputes.services), applied the same way: whichever of the two comes second
changes nothing more. News older than what is recorded (fewer evidence submissions than
the row counts) moves no open status back."""

from datetime import UTC, datetime

from orders import payment_outcomes
from orders.models import Order
from payments import emails
from payments.handlers.review import audit_entry
from payments.locks import lock_dispute
from payments.models import DISPUTE_CLOSED, Dispute, PaymentAttempt, WebhookEvent


def _due_by(dispute: dict):
    due = (dispute.get("evidence_details") or {}).get("due_by")
    return datetime.fromtimestamp(due, tz=UTC) if isinstance(due, int) and due else None


def _follow_evidence(dispute: Dispute, obj: dict) -> bool:
    """Take Stripe's evidence_details; False when the news predates what the row knows."""
    details = obj.get("evidence_details") or {}
    submissions = details.get("submission_count")
    if not isinstance(submissions, int):
        return True
    if submissions < dispute.submission_count:
        return False
    dispute.submission_count = submissions
    dispute.has_evidence = bool(details.get("has_evidence", dispute.has_evidence))
    return True


def apply_dispute(
    order: Order, attempt: PaymentAttempt, obj: dict, *, event: WebhookEvent | None = None
) -> str:
    """Upsert one Stripe dispute, as `event` (its type tells the funds events) or Stripe's
    answer to our own call (no event) reports it."""
    event_type = event.type if event is not None else ""
    dispute = lock_dispute(obj.get("id"))
    status = obj.get("status") or "needs_response"
    opened = dispute is None
    if dispute is None:
        dispute = Dispute(
            attempt=attempt,
            order=order,
            stripe_dispute_id=obj.get("id"),
            amount=obj.get("amount") or 0,
            currency=obj.get("currency") or attempt.currency,
            status=status,
        )
    was_closed = not opened and dispute.is_closed
    current = _follow_evidence(dispute, obj)
    if not opened and not was_closed:  # a closed dispute never reopens, whatever arrives late
        if status in DISPUTE_CLOSED:
            dispute.close(status)
        elif current:
            dispute.follow(status)
    dispute.reason = obj.get("reason") or dispute.reason
    dispute.evidence_due_by = _due_by(obj) or dispute.evidence_due_by
    if dispute.is_closed:
        # Closed, the outcome decides where the money is, whichever funds event comes
        # last: a lost dispute keeps the funds withdrawn, a won one has them reinstated.
        dispute.funds_withdrawn = dispute.status == "lost"
    elif event_type == "charge.dispute.funds_withdrawn":
        dispute.funds_withdrawn = True
    elif event_type == "charge.dispute.funds_reinstated":
        dispute.funds_withdrawn = False
    dispute.save()
    if opened:  # also when the closing event is the first we hear of it
        audit_entry(
            "dispute.opened",
            order,
            attempt,
            money=(dispute.amount, dispute.currency),
            dispute=dispute.stripe_dispute_id,
            reason=dispute.reason,
        )

    if not dispute.is_closed:
        payment_outcomes.record_dispute_opened(order)
        if opened:
            emails.queue(
                emails.staff_alert,
                f"Dispute opened on order {order.number}",
                order=order,
                reason=dispute.reason,
                amount=dispute.amount,
                evidence_due_by=str(dispute.evidence_due_by),
            )
        return f"dispute {dispute.status}"
    if was_closed:
        return f"dispute already closed ({dispute.status})"
    payment_outcomes.record_dispute_closed(order, lost=dispute.status == "lost")
    audit_entry(
        "dispute.closed",
        order,
        attempt,
        money=(dispute.amount, dispute.currency),
        dispute=dispute.stripe_dispute_id,
        status=dispute.status,
    )
    emails.queue(
        emails.staff_alert,
        f"Dispute on order {order.number} closed: {dispute.status}",
        order=order,
        amount=dispute.amount,
    )
    return f"dispute closed ({dispute.status})"
