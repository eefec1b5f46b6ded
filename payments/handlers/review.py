"""What Stripe's news leaves for people: the audit entry of a change Stripe reported, and
an order handed to a person (orders' needs_review, with an e-mail alert to staff)."""

from audit.services import record
from orders import payment_outcomes
from orders.models import Order
from payments import emails


def audit_entry(action: str, order: Order, attempt=None, **details) -> None:
    record(
        action,
        actor_label="stripe",
        obj=attempt or order,
        order=order,
        amount=attempt.amount if attempt else order.total,
        currency=attempt.currency if attempt else order.currency,
        details=details,
    )


def flag_for_review(order: Order, reason: str, **details) -> None:
    """The order goes to a person (orders' service) and staff are alerted by e-mail."""
    details = payment_outcomes.put_in_review(order, reason, **details)
    emails.queue(
        emails.staff_alert, f"Order {order.number} needs review: {reason}", order=order, **details
    )
