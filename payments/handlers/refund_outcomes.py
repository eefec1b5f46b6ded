"""What Stripe's news does to a refund: the row upserted through its state machine, then
the refunded totals recomputed (the order's through orders.payment_outcomes). The order
and the paid attempt are locked by the caller."""

from django.db.models import Sum

from orders import payment_outcomes
from orders.models import Order
from payments import emails
from payments.handlers.review import audit_entry, flag_for_review
from payments.locks import lock_refund_by_stripe_id, lock_refund_by_uuid
from payments.models import PaymentAttempt, Refund, RefundStatus


def apply_refund(order: Order, attempt: PaymentAttempt, obj: dict, *, event=None) -> str:
    """Upsert one Stripe refund and recompute the refunded totals (order and attempt locked)."""
    refund_id = obj.get("id") or ""
    status = refund_status(obj)
    refund = lock_refund_by_stripe_id(refund_id)
    local_uuid = (obj.get("metadata") or {}).get("refund_uuid")
    if refund is None and local_uuid:
        refund = lock_refund_by_uuid(local_uuid, attempt=attempt)
    if refund is None:
        refund = Refund.objects.create(
            attempt=attempt,
            order=order,
            stripe_refund_id=refund_id,
            amount=obj.get("amount") or 0,
            currency=obj.get("currency") or attempt.currency,
            status=status,
            reason=obj.get("reason") or "",
            failure_reason=obj.get("failure_reason") or "",
        )
        changed = True
    else:
        move = refund.transition_to(status)  # None: old news, or no news
        changed = move is not None or not refund.stripe_refund_id
        if changed:
            refund.stripe_refund_id = refund_id
            if move is not None:
                move()
            refund.failure_reason = obj.get("failure_reason") or refund.failure_reason
            refund.save()
    if not changed:
        return "refund unchanged"
    _recompute_refunded(order, attempt)
    audit_entry(
        "refund.updated",
        order,
        attempt,
        money=(refund.amount, refund.currency),
        refund=refund_id,
        status=refund.status,
        stripe_event=event.stripe_event_id if event else "",
    )
    if refund.status == RefundStatus.FAILED:
        emails.queue(
            emails.staff_alert,
            f"Refund {refund_id} failed",
            order=order,
            amount=refund.amount,
            reason=refund.failure_reason,
        )
    return f"refund {refund.status}"


def refund_status(obj: dict) -> str:
    """Stripe's refund status; one we do not know counts as pending."""
    status = obj.get("status")
    return status if status in RefundStatus.values else RefundStatus.PENDING


def _recompute_refunded(order: Order, attempt: PaymentAttempt) -> None:
    """The refunded totals: the attempt's and the order's, the sums of succeeded refunds."""

    def succeeded_sum(**where) -> int:
        return (
            Refund.objects.filter(status=RefundStatus.SUCCEEDED, **where).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )

    attempt_total = succeeded_sum(attempt=attempt)
    if attempt_total != attempt.amount_refunded:
        attempt.amount_refunded = attempt_total
        attempt.save(update_fields=["amount_refunded", "updated_at"])
    order_total = succeeded_sum(order=order)
    if attempt_total > attempt.amount_received:
        flag_for_review(
            order,
            "refunded more than was paid",
            refunded=attempt_total,
            paid=attempt.amount_received,
        )
    payment_outcomes.record_refunded_total(order, order_total)
