"""What Stripe's news does to a payment attempt, its order and attempt locked by the caller.

The attempt moves only through its state machine, so a duplicate or an older event changes
nothing; what the news does to the order is orders.payment_outcomes' (and orders.services')
to do. Each returns the note kept on the inbox row.
"""

from django_fsm import can_proceed

from core import rows
from orders import payment_outcomes
from orders.models import Order, OrderStatus
from orders.services import expire_locked_order
from payments import emails
from payments.checkout import declines
from payments.checkout.outcomes import record_payment_failure
from payments.handlers.review import audit_entry, flag_for_review
from payments.models import IN_FLIGHT, OPEN, AttemptStatus, PaymentAttempt, WebhookEvent


def record_success(
    order: Order, attempt: PaymentAttempt, *, amount, currency, event, adopted=()
) -> str:
    """`adopted`: fields the caller set on the attempt and left for this to save
    (lookup.adopt_ids(save=False)); every way out saves them."""
    if attempt.status == AttemptStatus.SUCCEEDED:
        _save_fields(attempt, adopted)
        return "already recorded"
    if _other_attempt_succeeded(order, attempt):
        attempt.amount_received = amount or 0
        attempt.failure_code = "duplicate_payment"
        _save_fields(attempt, ["amount_received", "failure_code", *adopted])
        flag_for_review(
            order,
            "a second payment succeeded",
            attempt_number=attempt.number,
            stripe_event=event.stripe_event_id,
        )
        return "second successful attempt"
    if not can_proceed(attempt.mark_succeeded):
        _save_fields(attempt, adopted)
        return f"stale: attempt is {attempt.status}"
    attempt.mark_succeeded(amount or 0)
    _save_fields(
        attempt,
        ["status", "amount_received", "failure_code", "failure_message", *adopted],
    )
    mismatch = []
    if amount != attempt.amount or amount != order.total:
        mismatch.append(f"amount {amount} != {order.total}")
    if currency != attempt.currency or currency != order.currency:
        mismatch.append(f"currency {currency} != {order.currency}")
    if mismatch:
        flag_for_review(
            order,
            "money and order disagree",
            mismatch="; ".join(mismatch),
            stripe_event=event.stripe_event_id,
        )
        return "mismatch"
    if order.status != OrderStatus.PENDING_PAYMENT:
        flag_for_review(
            order,
            f"payment received for an order that is {order.status}",
            stripe_event=event.stripe_event_id,
        )
        return "paid while not payable"
    payment_outcomes.record_payment(order)
    audit_entry("payment.succeeded", order, attempt, stripe_event=event.stripe_event_id)
    emails.queue(emails.receipt, order)  # the locked, paid order: not read again
    return "paid"


def _other_attempt_succeeded(order: Order, attempt: PaymentAttempt) -> bool:
    """Whether another attempt of the (locked) order succeeded: read with the attempt's
    lock when it was taken by its Stripe id (payments.locks), else asked now."""
    known = getattr(attempt, "other_attempt_succeeded", None)
    if known is not None:
        return known
    others = order.payment_attempts.filter(status=AttemptStatus.SUCCEEDED)
    return others.exclude(pk=attempt.pk).exists()


def _save_fields(attempt: PaymentAttempt, fields) -> None:
    """One UPDATE of these fields of the locked attempt, and its updated_at (none: nothing
    to write); SQL built once (core.rows): every payment writes its attempt here."""
    if fields:
        rows.save_fields(attempt, fields)


def _superseded(event: WebhookEvent | None) -> bool:
    """A newer event about the same PaymentIntent was already applied: this one is older news.

    A PaymentIntent can go back (after a failure it may need 3-D Secure again), so the state
    machine alone cannot tell an old `requires_action` from a new one; Stripe's `created`
    time can. Equal times (one second) are not ordered and apply as before.
    """
    if event is None or event.stripe_created is None or not event.payment_intent_id:
        return False
    return (
        WebhookEvent.objects.filter(
            payment_intent_id=event.payment_intent_id,
            status=WebhookEvent.Status.PROCESSED,
            stripe_created__gt=event.stripe_created,
        )
        .exclude(pk=event.pk)
        .exists()
    )


def record_failure(
    order: Order, attempt: PaymentAttempt, *, code: str, message: str, event=None
) -> str:
    # Every distinct failure event is a decline for the limits, whatever the attempt's
    # state: a PaymentIntent fails again and again while it stays confirmable, and a
    # failure reported after a newer event or after we closed the attempt still happened.
    if event is not None and not declines.record(event, attempt, user_id=order.user_id, code=code):
        return "decline already recorded"
    if not can_proceed(attempt.mark_failed):
        return f"stale: attempt is {attempt.status}"
    if _superseded(event):
        return "stale: a newer event about this payment was applied"
    record_payment_failure(attempt, code=code, message=message)
    if (
        order.status == OrderStatus.PENDING_PAYMENT
        and not emails.payment_failed_recently(order.pk)
        and declines.block_for(user_id=order.user_id, address=attempt.client_address) is None
    ):
        # One e-mail per order per window, and none to a shopper the limits stopped.
        emails.queue(emails.payment_failed, order.pk, message)
    return "failed"


def move(attempt: PaymentAttempt, transition_name: str, event=None) -> str:
    """Take the attempt's transition, unless it may not or newer news was applied."""
    transition = getattr(attempt, transition_name)
    if not can_proceed(transition):
        return f"stale: attempt is {attempt.status}"
    if _superseded(event):
        return "stale: a newer event about this payment was applied"
    transition()
    rows.save_fields(attempt, ["status"])  # the transition's one change, and updated_at
    return attempt.status


def record_expired_session(order: Order, attempt: PaymentAttempt, event) -> str:
    """The Session's attempt is canceled; the order expires when it was waiting for payment
    and no other attempt is still alive.

    An open attempt without a Stripe id yet counts: the shop closes an open Session before
    it asks Stripe for the next payment (a shopper continuing by card), so the Session's
    expiry can arrive while that payment is being created. One whose creation failed keeps
    the order only until its reservation runs out (orders.housekeeping)."""
    note = move(attempt, "cancel", event)
    alive = order.payment_attempts.exclude(pk=attempt.pk).filter(status__in=[*OPEN, *IN_FLIGHT])
    if order.status == OrderStatus.PENDING_PAYMENT and not alive.exists():
        expire_locked_order(order, reason="checkout session expired")
        return "order expired"
    return note
