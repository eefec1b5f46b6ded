"""What Stripe's news does to a dispute: the row created or moved through its state machine
(a closed dispute never reopens), where the funds are, and what it does to the order
(orders.payment_outcomes). The order and the paid attempt are locked by the caller."""

from datetime import UTC, datetime

from orders import payment_outcomes
from orders.models import Order
from payments import emails
from payments.handlers.review import audit_entry
from payments.locks import lock_dispute
from payments.models import DISPUTE_CLOSED, Dispute, PaymentAttempt, WebhookEvent


def _due_by(dispute: dict):
    due = (dispute.get("evidence_details") or {}).get("due_by")
    return datetime.fromtimestamp(due, tz=UTC) if isinstance(due, int) else None


def apply_dispute(order: Order, attempt: PaymentAttempt, obj: dict, *, event: WebhookEvent) -> str:
    """Upsert one Stripe dispute, as `event` (its type tells the funds events) reports it."""
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
    if not opened and not was_closed:  # a closed dispute never reopens, whatever arrives late
        if status in DISPUTE_CLOSED:
            dispute.close(status)
        else:
            dispute.follow(status)
    dispute.reason = obj.get("reason") or dispute.reason
    dispute.evidence_due_by = _due_by(obj) or dispute.evidence_due_by
    if dispute.is_closed:
        # Closed, the outcome decides where the money is, whichever funds event comes
        # last: a lost dispute keeps the funds withdrawn, a won one has them reinstated.
        dispute.funds_withdrawn = dispute.status == "lost"
    elif event.type == "charge.dispute.funds_withdrawn":
        dispute.funds_withdrawn = True
    elif event.type == "charge.dispute.funds_reinstated":
        dispute.funds_withdrawn = False
    dispute.save()
    if opened:  # also when the closing event is the first we hear of it
        audit_entry(
            "dispute.opened",
            order,
            attempt,
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
        "dispute.closed", order, attempt, dispute=dispute.stripe_dispute_id, status=dispute.status
    )
    emails.queue(
        emails.staff_alert,
        f"Dispute on order {order.number} closed: {dispute.status}",
        order=order,
        amount=dispute.amount,
    )
    return f"dispute closed ({dispute.status})"
