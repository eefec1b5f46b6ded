"""One handler per Stripe event type (the event table of the webhook docs).

A handler runs inside the processing transaction. It finds the rows the event is about,
locks them in the fixed order order → attempt → refund/dispute (payments.locks), and moves
them only through their state machines, so a duplicate or an older event changes nothing.
What the news does to the order (paid, refunded, disputed, in review, expired) is the
orders app's to do: its services in orders.payment_outcomes and orders.services. A handler
raises `WaitForDependency` when a row it needs is not there yet (events out of order).
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Sum
from django_fsm import can_proceed

from audit.services import record
from orders import payment_outcomes
from orders.models import Order, OrderStatus
from orders.services import expire_locked_order
from payments import emails
from payments.checkout import declines
from payments.checkout.outcomes import record_payment_failure
from payments.locks import (
    lock_dispute,
    lock_order_and_attempt,
    lock_refund_by_stripe_id,
    lock_refund_by_uuid,
)
from payments.models import (
    DISPUTE_CLOSED,
    IN_FLIGHT,
    OPEN,
    AttemptStatus,
    Dispute,
    PaymentAttempt,
    Refund,
    RefundStatus,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

PROCESSED = WebhookEvent.Status.PROCESSED
IGNORED = WebhookEvent.Status.IGNORED


class WaitForDependency(Exception):
    """A row this event needs is not recorded yet: process the event again later."""


class Ignore(Exception):
    """The event is not about anything of ours (foreign metadata, unknown order)."""


HANDLERS: dict[str, Callable[[WebhookEvent], str | None]] = {}


def handles(*event_types: str):
    def register(function):
        for event_type in event_types:
            HANDLERS[event_type] = function
        return function

    return register


def dispatch(event: WebhookEvent) -> tuple[str, str]:
    """Apply the event; returns (status, note) for the inbox row."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return IGNORED, "no handler for this event type"
    if event.livemode != settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_")):
        return IGNORED, "livemode does not match the configured key"
    if names_another_shop(event.data_object):
        shop = str(_metadata(event.data_object).get("shop"))[:60]
        return IGNORED, f"metadata names another shop ({shop!r})"
    try:
        note = handler(event)
    except Ignore as exc:
        return IGNORED, str(exc)
    return PROCESSED, note or ""


# --- finding and locking our rows -----------------------------------------------------
def stripe_id(value) -> str:
    """The id of a Stripe reference, expanded (an object) or not (a string)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _metadata(obj) -> dict:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _metadata_ids(obj: dict) -> tuple[int | None, int | None]:
    metadata = _metadata(obj)
    order_id, number = metadata.get("order_id"), metadata.get("attempt")
    order_id = int(order_id) if _is_id(order_id) else None
    number = int(number) if _is_id(number) else None
    return order_id, number


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) <= 18


def _names_this_shop(obj: dict) -> bool:
    return _metadata(obj).get("shop") == settings.SHOP_ID


def names_another_shop(obj: dict) -> bool:
    """Another deployment on the same Stripe account made this object (see SHOP_ID)."""
    shop = _metadata(obj).get("shop")
    return shop is not None and shop != settings.SHOP_ID


# The attempt column that records each kind of object we create at Stripe.
RECORDED_ID = {
    "checkout.session": "stripe_checkout_session_id",
    "payment_intent": "stripe_payment_intent_id",
}
# The note of an event ignored because it names no payment of ours. When one of our events
# later records that PaymentIntent (a Session's is learnt from its events), such events are
# taken up again: see _adopt_ids.
NOT_OURS = "not one of this shop's recorded payments"


def _recorded(*, session_id="", payment_intent_id="", charge_id=""):
    """The attempt that recorded one of these Stripe ids, if any (not locked)."""
    candidates = PaymentAttempt.objects.only("pk", "order_id")
    for field, value in (
        ("stripe_checkout_session_id", session_id),
        ("stripe_payment_intent_id", payment_intent_id),
        ("stripe_charge_id", charge_id),
    ):
        if value:
            found = candidates.filter(**{field: value}).first()
            if found is not None:
                return found
    return None


def _named_by_metadata(obj: dict) -> PaymentAttempt:
    """The attempt our metadata names, for a PaymentIntent or Session not recorded yet.

    Stripe's event can beat step 3 of starting a payment (storing the new id), and a
    Session's PaymentIntent is only learnt from events. Metadata is not proof, though:
    another deployment on the same account can send the same order and attempt numbers.
    So only an object naming this shop may be matched this way, and only to an attempt
    that has no id of that kind yet (checked again under the lock, see _lock).
    """
    kind = obj.get("object")
    order_id, number = _metadata_ids(obj)
    if kind not in RECORDED_ID or order_id is None or number is None:
        raise Ignore(f"{NOT_OURS} (unknown id, no order in the metadata)")
    if not _names_this_shop(obj):
        raise Ignore(f"{NOT_OURS} (unknown id, metadata names no shop of ours)")
    attempts = PaymentAttempt.objects.only("pk", "order_id", "kind")
    found = attempts.filter(order_id=order_id, number=number).first()
    if found is None:
        if Order.objects.filter(pk=order_id).exists():
            raise WaitForDependency("the payment attempt is not recorded yet")
        raise Ignore(f"{NOT_OURS} (no order {order_id} here)")
    if kind == "checkout.session" and found.kind != PaymentAttempt.Kind.CHECKOUT_SESSION:
        raise Ignore(f"{NOT_OURS} (order {order_id} attempt {number} is no Checkout Session)")
    return found


def _lock(*, session_id="", payment_intent_id="", charge_id="", obj=None):
    """Find the attempt an object belongs to and lock order, then attempt.

    An object is ours when one of its ids is recorded on an attempt; failing that, see
    _named_by_metadata. Anything else raises Ignore: it is stored, never retried.
    """
    obj = obj or {}
    found = _recorded(
        session_id=session_id, payment_intent_id=payment_intent_id, charge_id=charge_id
    )
    by_metadata = found is None
    if by_metadata:
        found = _named_by_metadata(obj)
    order, attempt = lock_order_and_attempt(found.order_id, found.pk)
    if by_metadata:
        field = RECORDED_ID[obj["object"]]
        recorded, object_id = getattr(attempt, field), stripe_id(obj)
        if recorded and recorded != object_id:
            raise Ignore(
                f"{NOT_OURS} (order {order.pk} attempt {attempt.number} recorded another "
                f"{obj['object']})"
            )
        if object_id:
            _adopt_ids(attempt, **{RECORDED_FIELDS[field]: object_id})
    return order, attempt


RECORDED_FIELDS = {
    "stripe_checkout_session_id": "session_id",
    "stripe_payment_intent_id": "payment_intent_id",
    "stripe_charge_id": "charge_id",
}


def _adopt_ids(attempt: PaymentAttempt, *, session_id="", payment_intent_id="", charge_id=""):
    """Remember Stripe ids learned from events (e.g. the PaymentIntent behind a Session).

    An id already recorded is never replaced. Events ignored earlier because their
    PaymentIntent was unknown (a dispute names no shop) are ours after all: they go back to
    the inbox, and processing queues them once this event commits.
    """
    values = {
        "session_id": session_id,
        "payment_intent_id": payment_intent_id,
        "charge_id": charge_id,
    }
    changed = []
    for field, argument in RECORDED_FIELDS.items():
        value = values[argument]
        if value and not getattr(attempt, field):
            setattr(attempt, field, value)
            changed.append(field)
    if changed:
        attempt.save(update_fields=[*changed, "updated_at"])
    if "stripe_payment_intent_id" in changed:
        WebhookEvent.objects.filter(
            payment_intent_id=payment_intent_id,
            status=IGNORED,
            last_error__startswith=NOT_OURS,
        ).update(status=WebhookEvent.Status.RECEIVED, handled_at=None, next_attempt_at=None)


def _audit(action: str, order: Order, attempt=None, **details):
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


# --- payments ---------------------------------------------------------------------------
def _record_success(order: Order, attempt: PaymentAttempt, *, amount, currency, event) -> str:
    if attempt.status == AttemptStatus.SUCCEEDED:
        return "already recorded"
    if (
        order.payment_attempts.filter(status=AttemptStatus.SUCCEEDED)
        .exclude(pk=attempt.pk)
        .exists()
    ):
        attempt.amount_received = amount or 0
        attempt.failure_code = "duplicate_payment"
        attempt.save(update_fields=["amount_received", "failure_code", "updated_at"])
        flag_for_review(
            order,
            "a second payment succeeded",
            attempt_number=attempt.number,
            stripe_event=event.stripe_event_id,
        )
        return "second successful attempt"
    if not can_proceed(attempt.mark_succeeded):
        return f"stale: attempt is {attempt.status}"
    attempt.mark_succeeded(amount or 0)
    attempt.save()
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
    _audit("payment.succeeded", order, attempt, stripe_event=event.stripe_event_id)
    emails.queue(emails.receipt, order.pk)
    return "paid"


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
            status=PROCESSED,
            stripe_created__gt=event.stripe_created,
        )
        .exclude(pk=event.pk)
        .exists()
    )


def _record_failure(
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


def _move(attempt: PaymentAttempt, transition_name: str, event=None) -> str:
    transition = getattr(attempt, transition_name)
    if not can_proceed(transition):
        return f"stale: attempt is {attempt.status}"
    if _superseded(event):
        return "stale: a newer event about this payment was applied"
    transition()
    attempt.save()
    return attempt.status


@handles("checkout.session.completed")
def checkout_session_completed(event: WebhookEvent):
    session = event.data_object
    order, attempt = _lock(session_id=session.get("id", ""), obj=session)
    _adopt_ids(
        attempt,
        session_id=session.get("id", ""),
        payment_intent_id=stripe_id(session.get("payment_intent")),
    )
    if session.get("payment_status") == "paid":
        return _record_success(
            order,
            attempt,
            amount=session.get("amount_total"),
            currency=session.get("currency"),
            event=event,
        )
    if session.get("payment_status") == "unpaid":
        return _move(attempt, "mark_processing", event)
    return f"payment_status {session.get('payment_status')}: nothing to do"


@handles("checkout.session.async_payment_succeeded")
def checkout_async_succeeded(event: WebhookEvent):
    session = event.data_object
    order, attempt = _lock(session_id=session.get("id", ""), obj=session)
    _adopt_ids(attempt, payment_intent_id=stripe_id(session.get("payment_intent")))
    return _record_success(
        order,
        attempt,
        amount=session.get("amount_total"),
        currency=session.get("currency"),
        event=event,
    )


@handles("checkout.session.async_payment_failed")
def checkout_async_failed(event: WebhookEvent):
    session = event.data_object
    order, attempt = _lock(session_id=session.get("id", ""), obj=session)
    return _record_failure(
        order,
        attempt,
        code="async_payment_failed",
        message="The payment could not be completed. Please try again.",
        event=event,
    )


@handles("checkout.session.expired")
def checkout_session_expired(event: WebhookEvent):
    session = event.data_object
    order, attempt = _lock(session_id=session.get("id", ""), obj=session)
    note = _move(attempt, "cancel", event)
    alive = (
        order.payment_attempts.exclude(pk=attempt.pk)
        .filter(status__in=[*OPEN, *IN_FLIGHT])
        .exclude(stripe_checkout_session_id=None, stripe_payment_intent_id=None)
    )
    if order.status == OrderStatus.PENDING_PAYMENT and not alive.exists():
        expire_locked_order(order, reason="checkout session expired")
        return "order expired"
    return note


@handles("payment_intent.succeeded")
def payment_intent_succeeded(event: WebhookEvent):
    intent = event.data_object
    order, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    _adopt_ids(
        attempt,
        payment_intent_id=intent.get("id", ""),
        charge_id=stripe_id(intent.get("latest_charge")),
    )
    return _record_success(
        order,
        attempt,
        amount=intent.get("amount_received"),
        currency=intent.get("currency"),
        event=event,
    )


@handles("payment_intent.processing")
def payment_intent_processing(event: WebhookEvent):
    intent = event.data_object
    _, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    return _move(attempt, "mark_processing", event)


@handles("payment_intent.requires_action")
def payment_intent_requires_action(event: WebhookEvent):
    intent = event.data_object
    _, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    return _move(attempt, "require_action", event)


@handles("payment_intent.amount_capturable_updated")
def payment_intent_authorized(event: WebhookEvent):
    intent = event.data_object
    _, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    _adopt_ids(attempt, charge_id=stripe_id(intent.get("latest_charge")))
    return _move(attempt, "mark_authorized", event)


@handles("payment_intent.payment_failed")
def payment_intent_failed(event: WebhookEvent):
    intent = event.data_object
    order, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    code = _text(error.get("decline_code")) or _text(error.get("code")) or "payment_failed"
    # Stripe's message on a card error is written to be shown to the card holder.
    message = _text(error.get("message")) or "Your payment was declined."
    return _record_failure(order, attempt, code=code, message=message, event=event)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


@handles("payment_intent.canceled")
def payment_intent_canceled(event: WebhookEvent):
    intent = event.data_object
    _, attempt = _lock(payment_intent_id=intent.get("id", ""), obj=intent)
    return _move(attempt, "cancel", event)


# --- refunds ----------------------------------------------------------------------------
def _paid_attempt(obj: dict, *, charge_id: str = ""):
    """Lock the paid attempt a refund, a dispute or a refunded charge is about.

    Ours when its PaymentIntent or charge is recorded. Otherwise it is another account
    user's, ignored at once, unless its metadata names this shop and one of our orders
    (our refunds carry it, a charge carries its PaymentIntent's): then it is ours and
    early, and waits for the payment. A dispute carries no metadata; when its
    PaymentIntent is recorded later, _adopt_ids takes the ignored event up again.
    """
    payment_intent_id = stripe_id(obj.get("payment_intent"))
    charge_id = charge_id or stripe_id(obj.get("charge"))
    found = _recorded(payment_intent_id=payment_intent_id, charge_id=charge_id)
    if found is None:
        order_id, _ = _metadata_ids(obj)
        if (
            _names_this_shop(obj)
            and order_id is not None
            and Order.objects.filter(pk=order_id).exists()
        ):
            raise WaitForDependency("the payment this refers to is not recorded yet")
        raise Ignore(f"{NOT_OURS} (a charge this shop never made)")
    order, attempt = lock_order_and_attempt(found.order_id, found.pk)
    if attempt.status != AttemptStatus.SUCCEEDED:
        raise WaitForDependency("the payment this refers to is not recorded as paid yet")
    return order, attempt


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
    _audit(
        "refund.updated",
        order,
        attempt,
        refund=refund_id,
        status=refund.status,
        refund_amount=refund.amount,
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


@handles("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
def refund_changed(event: WebhookEvent):
    refund = event.data_object
    order, attempt = _paid_attempt(refund)
    return apply_refund(order, attempt, refund, event=event)


@handles("charge.refunded")
def charge_refunded(event: WebhookEvent):
    charge = event.data_object
    order, attempt = _paid_attempt(charge, charge_id=stripe_id(charge))
    _adopt_ids(attempt, charge_id=charge.get("id", ""))
    # At this API version the charge does not list its refunds unless expanded; each
    # refund arrives as refund.* events too, which carry the amounts.
    refunds = (charge.get("refunds") or {}).get("data") or []
    notes = [apply_refund(order, attempt, refund, event=event) for refund in refunds]
    return "; ".join(notes) or "refunds arrive as refund.* events"


# --- disputes ---------------------------------------------------------------------------
def _due_by(dispute: dict):
    due = (dispute.get("evidence_details") or {}).get("due_by")
    return datetime.fromtimestamp(due, tz=UTC) if isinstance(due, int) else None


@handles(
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
def dispute_changed(event: WebhookEvent):
    obj = event.data_object
    order, attempt = _paid_attempt(obj)
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
        _audit(
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
    _audit(
        "dispute.closed", order, attempt, dispute=dispute.stripe_dispute_id, status=dispute.status
    )
    emails.queue(
        emails.staff_alert,
        f"Dispute on order {order.number} closed: {dispute.status}",
        order=order,
        amount=dispute.amount,
    )
    return f"dispute closed ({dispute.status})"
