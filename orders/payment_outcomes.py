"""What a payment's outcome does to its order: the order's side of the webhook handlers.

payments decides what Stripe's news means (which attempt, which refund, whether it is
stale) and calls these with the order locked (`orders.locks.lock_order`, first in the lock
order) inside its transaction. They move the order through its state machine and do what
belongs to the order with it: stock, the shopper's cart, the order's audit entries.
Nothing here calls Stripe or sends e-mail.
"""

from audit.services import record
from catalog.services import sell_stock
from core import rows
from orders.models import SETTLED, Order, OrderStatus
from orders.selectors import read_lines
from orders.services import take_ordered_from_cart

# Where money was taken and not charged back: refunds and disputes move these.
HOLDS_PAYMENT = [*SETTLED, OrderStatus.REFUNDED]


def record_payment(order: Order) -> None:
    """The order (pending payment) is paid: its reserved units are sold, and what it took
    from the cart leaves the cart (lines added after it stay).

    The caller has checked that the money matches the order and that it was payable.
    The order's lines are read once, here, for the cart, the stock and the receipt.
    """
    order.mark_paid()
    rows.save_fields(order, ["status"])  # and updated_at; SQL built once (core.rows)
    read_lines(order)
    take_ordered_from_cart(order)  # the cart before the products (orders.locks)
    sell_stock(order.quantities())


def record_refunded_total(order: Order, refunded_total: int) -> None:
    """The sum of the order's succeeded refunds is now `refunded_total`.

    A settled or refunded order takes the status that total means (paid or fulfilled,
    partially refunded, refunded); any other keeps its status (a dispute, a review) and
    only remembers the total, which a won dispute then counts.
    """
    if order.status in HOLDS_PAYMENT:
        order.apply_refunded_amount(refunded_total)
    else:
        order.amount_refunded = refunded_total
    rows.save_fields(order, ["status", "amount_refunded"])


def record_dispute_opened(order: Order) -> None:
    """A dispute on the order's payment is open (again, for a late event: no change)."""
    if order.status in HOLDS_PAYMENT:
        order.open_dispute()
        rows.save_fields(order, ["status", "status_before_dispute"])


def record_dispute_closed(order: Order, *, lost: bool) -> None:
    """The dispute closed: lost, the order is charged back; won, it goes back to where it was.

    A lost dispute whose opening the order never saw (the closing event came first) goes
    through "disputed" on its way to "charged back". An order in review stays there.
    """
    if order.status in HOLDS_PAYMENT and lost:
        order.open_dispute()
    if order.status == OrderStatus.DISPUTED:
        if lost:
            order.lose_dispute()
        else:
            order.win_dispute()
        rows.save_fields(order, ["status", "status_before_dispute"])


def put_in_review(order: Order, reason: str, **details) -> dict:
    """Hand the order to a person (needs review), and audit why.

    Returns the details recorded: the caller's, and the status the order left (when it was
    not in review already), for the staff alert.
    """
    if order.status != OrderStatus.NEEDS_REVIEW:
        details["previous_status"] = order.status
        order.flag_for_review()
        rows.save_fields(order, ["status"])
    record(
        "order.needs_review",
        actor_label="stripe",
        obj=order,
        order=order,
        amount=order.total,
        currency=order.currency,
        details={"reason": reason, **details},
    )
    return details
