"""What Stripe's news leaves for people: the audit entry of a change Stripe reported, and
an order handed to a person (orders' needs_review, with an e-mail alert to staff)."""

from audit.services import record
from orders import payment_outcomes
from orders.models import Order
from payments import emails


def audit_entry(
    action: str, order: Order, attempt=None, *, money: tuple[int, str] | None = None, **details
) -> None:
    """`money` (amount, currency): what the entry is about when it is not the whole payment
    (a refund's own amount); otherwise the attempt's amount, or the order's total."""
    if money is None:
        money = (attempt.amount, attempt.currency) if attempt else (order.total, order.currency)
    record(
        action,
        actor_label="stripe",
        obj=attempt or order,
        order=order,
        amount=money[0],
        currency=money[1],
        details=details,
    )


def flag_for_review(order: Order, reason: str, **details) -> None:
    """The order goes to a person (orders' service) and staff are alerted by e-mail."""
    details = payment_outcomes.put_in_review(order, reason, **details)
    emails.queue(
        emails.staff_alert, f"Order {order.number} needs review: {reason}", order=order, **details
    )
