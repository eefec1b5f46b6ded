"""Dispute events: the disputed paid attempt, found and locked, then the dispute applied
(dispute_outcomes, which tells orders.payment_outcomes)."""

from payments.handlers.dispute_outcomes import apply_dispute
from payments.handlers.lookup import lock_paid_attempt
from payments.handlers.registry import handles
from payments.models import WebhookEvent


@handles(
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
def dispute_changed(event: WebhookEvent):
    obj = event.data_object
    order, attempt = lock_paid_attempt(obj)
    return apply_dispute(order, attempt, obj, event=event)
