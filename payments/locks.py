"""The locks of the rows payments owns, in the lock order `orders.locks` states:

    shopper → order → payment attempt → refunds / disputes → cart → products

An attempt, a refund or a dispute is locked with its order already locked
(`lock_order_and_attempt`, or `orders.locks.lock_order` first), so everything that
happens to one order's payments is serialised by the order's lock and the rows under it
are always taken downwards. Two sites lock one row alone, holding nothing else:
`lock_attempt` (closing an attempt at Stripe with no order lock) and `lock_refund`
(recording that Stripe refused a refund). One site looks a refund up before its attempt:
a staff refund finds its form's earlier submission (`lock_refund_by_uuid`) first, already
holding the order's lock, which every other writer of that order's refunds except the
one-row `lock_refund` takes first too; so nobody waits the other way round.

The inbox and outbox rows stand outside the chain: a worker *claims* one with SKIP LOCKED
(`claim_event` here, `notifications.locks.claim_unsent_email` for the outbox), never
waiting for another worker, and a claimed event's handler then takes the chain above.
Reconciliation mismatches are locked alone, each in a transaction of its own.
"""

from django.db.models import QuerySet

from core import rows
from core.errors import NotFound
from orders.locks import lock_order, lock_order_where_id_is
from orders.models import Order
from payments.models import (
    AttemptStatus,
    Dispute,
    PaymentAttempt,
    ReconciliationMismatch,
    Refund,
    WebhookEvent,
)


# --- the chain: order → attempt → refunds / disputes -------------------------------------
def lock_order_and_attempt(order_id: int, attempt_id: int) -> tuple[Order, PaymentAttempt]:
    return lock_order(order_id), lock_attempt(attempt_id)


def lock_order_and_attempt_recording(
    field: str, stripe_id: str
) -> tuple[Order, PaymentAttempt] | None:
    """The order, then the attempt, of the attempt that recorded this Stripe id (`field`:
    a unique id column), or None when none did. The order is found by a subquery in its
    own locking statement: two statements, no unlocked read of the attempt first.

    The attempt comes with `other_attempt_succeeded`: whether another attempt of the order
    has succeeded, read under the order's lock (every attempt succeeds under it), which
    spares a payment (attempt_outcomes.record_success) a statement of its own.

    Every event about a payment starts here, so both statements are SQL built once
    (core.rows), not compiled by the ORM for each event.
    """
    attempts, recorded = rows.table(PaymentAttempt), rows.column(PaymentAttempt, field)
    try:
        order = lock_order_where_id_is(
            f"SELECT order_id FROM {attempts} WHERE {recorded} = %s LIMIT 1",  # noqa: S608
            [stripe_id],
        )
    except NotFound:
        return None
    attempt = rows.first(
        PaymentAttempt,
        f"{attempts}.order_id = %s AND {recorded} = %s",
        [order.pk, stripe_id],
        lock=True,
        extra=(("other_attempt_succeeded", _other_succeeded(attempts)),),
    )
    return None if attempt is None else (order, attempt)


def _other_succeeded(attempts: str) -> str:
    """SQL: another attempt of the row's order has succeeded. Identifiers come from the
    model (core.rows) and the status is a constant: nothing from outside."""
    succeeded = AttemptStatus.SUCCEEDED.value
    return (
        f"EXISTS (SELECT 1 FROM {attempts} other WHERE other.order_id = {attempts}.order_id "  # noqa: S608
        f"AND other.status = '{succeeded}' AND other.id <> {attempts}.id)"
    )


def attempts_for_update(order: Order) -> QuerySet:
    """The locked order's attempts, by number; each query of it locks the rows it reads."""
    return order.payment_attempts.select_for_update().order_by("number")


def lock_attempt(attempt_id: int) -> PaymentAttempt:
    """One attempt, alone or under its order's lock."""
    return PaymentAttempt.objects.select_for_update().get(pk=attempt_id)


def lock_refunds(attempt: PaymentAttempt) -> list[Refund]:
    """Every refund of the locked attempt (a new refund is measured against them)."""
    return list(attempt.refunds.select_for_update())


def lock_refund(refund_id: int) -> Refund:
    """One refund, alone."""
    return Refund.objects.select_for_update().get(pk=refund_id)


def lock_refund_by_stripe_id(stripe_refund_id: str) -> Refund | None:
    return Refund.objects.select_for_update().filter(stripe_refund_id=stripe_refund_id).first()


def lock_refund_by_uuid(idempotency_uuid, *, attempt: PaymentAttempt | None = None):
    """The refund we made with `refund-<uuid>` (of `attempt`, when given), or None."""
    refunds = Refund.objects.select_for_update().filter(idempotency_uuid=idempotency_uuid)
    if attempt is not None:
        refunds = refunds.filter(attempt=attempt)
    return refunds.first()


def lock_dispute(stripe_dispute_id) -> Dispute | None:
    return Dispute.objects.select_for_update().filter(stripe_dispute_id=stripe_dispute_id).first()


# --- outside the chain ------------------------------------------------------------------
def claim_event(event_pk: int) -> WebhookEvent | None:
    """The inbox row, still to be handled, unless another worker holds it (SKIP LOCKED).
    Taken for every event a worker applies: SQL built once (core.rows)."""
    return rows.first(
        WebhookEvent,
        "id = %s AND status = %s",
        [event_pk, WebhookEvent.Status.RECEIVED],
        lock=True,
        skip_locked=True,
    )


def lock_open_mismatch(kind: str, subject: str) -> ReconciliationMismatch | None:
    return (
        ReconciliationMismatch.objects.select_for_update()
        .filter(kind=kind, subject=subject, resolved_at__isnull=True)
        .first()
    )


def lock_mismatch(pk: int) -> ReconciliationMismatch:
    return ReconciliationMismatch.objects.select_for_update().get(pk=pk)
