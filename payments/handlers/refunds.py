"""Refund events and a refunded charge: the paid attempt, found and locked, then each
refund Stripe reports applied (refund_outcomes, which tells orders.payment_outcomes)."""

from payments.handlers.lookup import adopt_ids, lock_paid_attempt
from payments.handlers.refund_outcomes import apply_refund
from payments.handlers.registry import handles
from payments.handlers.stripe_objects import stripe_id
from payments.models import WebhookEvent


@handles("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
def refund_changed(event: WebhookEvent):
    refund = event.data_object
    order, attempt = lock_paid_attempt(refund)
    return apply_refund(order, attempt, refund, event=event)


@handles("charge.refunded")
def charge_refunded(event: WebhookEvent):
    charge = event.data_object
    order, attempt = lock_paid_attempt(charge, charge_id=stripe_id(charge))
    adopt_ids(attempt, charge_id=charge.get("id", ""))
    # At this API version the charge does not list its refunds unless expanded; each
    # refund arrives as refund.* events too, which carry the amounts.
    refunds = (charge.get("refunds") or {}).get("data") or []
    notes = [apply_refund(order, attempt, refund, event=event) for refund in refunds]
    return "; ".join(notes) or "refunds arrive as refund.* events"
