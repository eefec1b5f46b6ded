"""Finding the payment attempt a Stripe object is about, and locking order, then attempt.

An object is ours when one of its ids is recorded on an attempt. Failing that, a
PaymentIntent or Session not recorded yet is matched by our metadata, but only when it
names this shop (_named_by_metadata). Anything else raises `Ignore`: it is stored, never
retried; a row not recorded yet raises `WaitForDependency`. Ids learnt from events are
remembered on the attempt (adopt_ids).
"""

from orders.models import Order
from payments.handlers.registry import Ignore, WaitForDependency
from payments.handlers.stripe_objects import metadata_ids, names_this_shop, stripe_id
from payments.locks import lock_order_and_attempt, lock_order_and_attempt_recording
from payments.models import AttemptStatus, PaymentAttempt, WebhookEvent

# The attempt column that records each kind of object we create at Stripe.
RECORDED_ID = {
    "checkout.session": "stripe_checkout_session_id",
    "payment_intent": "stripe_payment_intent_id",
}
# The note of an event ignored because it names no payment of ours. When one of our events
# later records that PaymentIntent (a Session's is learnt from its events), such events are
# taken up again: see adopt_ids.
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
    that has no id of that kind yet (checked again under the lock, see lock_attempt).
    """
    kind = obj.get("object")
    order_id, number = metadata_ids(obj)
    if kind not in RECORDED_ID or order_id is None or number is None:
        raise Ignore(f"{NOT_OURS} (unknown id, no order in the metadata)")
    if not names_this_shop(obj):
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


def lock_attempt(*, session_id="", payment_intent_id="", charge_id="", obj=None):
    """Find the attempt an object belongs to and lock order, then attempt.

    An object is ours when one of its ids is recorded on an attempt; failing that, see
    _named_by_metadata. Anything else raises Ignore: it is stored, never retried.
    """
    obj = obj or {}
    given = [
        (field, value)
        for field, value in (
            ("stripe_checkout_session_id", session_id),
            ("stripe_payment_intent_id", payment_intent_id),
        )
        if value
    ]
    if len(given) == 1 and not charge_id:
        # One unique id (every PaymentIntent and Session event): order and attempt locked
        # in two statements, without reading the attempt unlocked first.
        locked = lock_order_and_attempt_recording(*given[0])
        if locked is not None:
            return locked
        found = None
    else:
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
            adopt_ids(attempt, **{RECORDED_FIELDS[field]: object_id})
    return order, attempt


RECORDED_FIELDS = {
    "stripe_checkout_session_id": "session_id",
    "stripe_payment_intent_id": "payment_intent_id",
    "stripe_charge_id": "charge_id",
}


def adopt_ids(
    attempt: PaymentAttempt, *, session_id="", payment_intent_id="", charge_id="", save=True
) -> list[str]:
    """Remember Stripe ids learned from events (e.g. the PaymentIntent behind a Session).

    An id already recorded is never replaced. Events ignored earlier because their
    PaymentIntent was unknown (a dispute names no shop) are ours after all: they go back to
    the inbox, and processing queues them once this event commits. Returns the attempt's
    fields set; `save=False`: the caller saves them with its own write of the attempt (one
    UPDATE instead of two), in the same transaction.
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
    if changed and save:
        attempt.save(update_fields=[*changed, "updated_at"])
    if "stripe_payment_intent_id" in changed:
        WebhookEvent.objects.filter(
            payment_intent_id=payment_intent_id,
            status=WebhookEvent.Status.IGNORED,
            last_error__startswith=NOT_OURS,
        ).update(status=WebhookEvent.Status.RECEIVED, handled_at=None, next_attempt_at=None)
    return changed


def lock_paid_attempt(obj: dict, *, charge_id: str = ""):
    """Lock the paid attempt a refund, a dispute or a refunded charge is about.

    Ours when its PaymentIntent or charge is recorded. Otherwise it is another account
    user's, ignored at once, unless its metadata names this shop and one of our orders
    (our refunds carry it, a charge carries its PaymentIntent's): then it is ours and
    early, and waits for the payment. A dispute carries no metadata; when its
    PaymentIntent is recorded later, adopt_ids takes the ignored event up again.
    """
    payment_intent_id = stripe_id(obj.get("payment_intent"))
    charge_id = charge_id or stripe_id(obj.get("charge"))
    found = _recorded(payment_intent_id=payment_intent_id, charge_id=charge_id)
    if found is None:
        order_id, _ = metadata_ids(obj)
        if (
            names_this_shop(obj)
            and order_id is not None
            and Order.objects.filter(pk=order_id).exists()
        ):
            raise WaitForDependency("the payment this refers to is not recorded yet")
        raise Ignore(f"{NOT_OURS} (a charge this shop never made)")
    order, attempt = lock_order_and_attempt(found.order_id, found.pk)
    if attempt.status != AttemptStatus.SUCCEEDED:
        raise WaitForDependency("the payment this refers to is not recorded as paid yet")
    return order, attempt
