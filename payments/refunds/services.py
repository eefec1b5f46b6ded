"""Refunds staff make: reserved here under the order's lock, then asked of Stripe with the
key `refund-<uuid>`; Stripe's webhook confirms them (payments.handlers)."""

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django_fsm import can_proceed

from audit.services import record
from catalog.amounts import check_amount
from catalog.money import format_amount
from core.errors import ShopError
from orders.locks import lock_order
from orders.models import Order, OrderStatus
from payments.errors import DuplicateSubmission, NotRefundable, OverRefund, StripeRefused
from payments.gateway import client as stripe_client
from payments.locks import lock_attempt, lock_refund, lock_refund_by_uuid, lock_refunds
from payments.models import AttemptStatus, PaymentAttempt, Refund, RefundStatus

REFUNDABLE_ORDER_STATES = [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED]
HOLDS_MONEY = [RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED]


def refundable_amount(attempt: PaymentAttempt) -> int:
    """What is left to refund: received, less refunds that succeeded or may still succeed."""
    committed = attempt.refunds.filter(status__in=HOLDS_MONEY).aggregate(total=Sum("amount"))
    return max(0, attempt.amount_received - (committed["total"] or 0))


def paid_attempt(order: Order) -> PaymentAttempt | None:
    return order.payment_attempts.filter(status=AttemptStatus.SUCCEEDED).first()


@transaction.atomic
def _reserve_refund(*, order_id, amount, reason, staff_user, request_uuid) -> Refund:
    order = lock_order(order_id)
    audit = {
        "action": "refund.request",
        "actor": staff_user,
        "obj": order,
        "order": order,
        "amount": amount,
        "currency": order.currency,
    }
    # Under the order's lock: the form's refund, if it was submitted before.
    existing = lock_refund_by_uuid(request_uuid)
    if existing is not None:
        if existing.stripe_refund_id or existing.status != RefundStatus.PENDING:
            raise DuplicateSubmission(audit={**audit, "details": {"refund": existing.pk}})
        return existing  # its Stripe call failed before: repeat it with the same key
    attempt = paid_attempt(order)
    if order.status not in REFUNDABLE_ORDER_STATES or attempt is None:
        raise NotRefundable(
            f"An order that is {order.get_status_display().lower()} cannot be refunded.",
            audit=audit,
        )
    attempt = lock_attempt(attempt.pk)
    lock_refunds(attempt)
    available = refundable_amount(attempt)
    if not 0 < amount <= available:
        raise OverRefund(
            f"At most {format_amount(available, order.currency)} can still be refunded.",
            audit=audit,
        )
    # Stripe refuses a refund that breaks the currency's rules (1.235 KWD): 400 here.
    check_amount(amount, order.currency, audit=audit)
    refund = Refund.objects.create(
        attempt=attempt,
        order=order,
        idempotency_uuid=request_uuid,
        amount=amount,
        currency=attempt.currency,
        status=RefundStatus.PENDING,
        reason=reason[:500],
        created_by=staff_user,
    )
    record(
        "refund.requested",
        actor=staff_user,
        obj=refund,
        order=order,
        amount=amount,
        currency=refund.currency,
        details={"reason": reason[:500]},
    )
    return refund


def create_refund(*, order_id: int, amount: int, reason: str, staff_user, request_uuid) -> Refund:
    """Refund part or all of an order's payment; Stripe's webhook confirms it.

    The local row is written first (under the order lock, so two staff at once cannot
    exceed what was paid), then Stripe is called with `refund-<uuid>`: a repeated
    submission of the same form can only ever make one refund at Stripe.
    """
    refund = _reserve_refund(
        order_id=order_id,
        amount=amount,
        reason=reason,
        staff_user=staff_user,
        request_uuid=request_uuid,
    )
    return send_refund(refund, staff_user=staff_user)


def send_refund(refund: Refund, *, staff_user=None) -> Refund:
    """Ask Stripe for a refund reserved here, with its key `refund-<uuid>`.

    Safe to repeat (a resubmitted form, reconciliation finding it unsent): Stripe answers a
    repeated key with the refund it already made.
    """
    attempt = refund.attempt
    request_uuid = refund.idempotency_uuid
    params = {
        "payment_intent": attempt.stripe_payment_intent_id,
        "amount": refund.amount,
        "reason": "requested_by_customer",
        "metadata": {
            "shop": settings.SHOP_ID,
            "order_id": str(refund.order_id),
            "refund_uuid": str(request_uuid),
        },
    }
    try:
        stripe_refund = stripe_client.call(
            "refunds.create",
            lambda c: c.v1.refunds.create(
                params=params, options={"idempotency_key": f"refund-{request_uuid}"}
            ),
        )
    except StripeRefused:
        with transaction.atomic():
            refused = lock_refund(refund.pk)
            if can_proceed(refused.mark_failed):  # it is pending: Stripe made no refund
                refused.mark_failed()
                refused.failure_reason = "refused by Stripe"
                refused.save(update_fields=["status", "failure_reason"])
            _record_refund_call_failure(refund, staff_user, "stripe_request_refused")
        raise
    except ShopError:
        # Unknown whether Stripe made it: the row stays pending, so the same form can be
        # sent again and repeats the call with the same idempotency key.
        _record_refund_call_failure(refund, staff_user, "stripe_unavailable")
        raise
    Refund.objects.filter(pk=refund.pk, stripe_refund_id=None).update(
        stripe_refund_id=stripe_refund.id
    )
    refund.refresh_from_db()
    return refund


def _record_refund_call_failure(refund: Refund, staff_user, code: str) -> None:
    record(
        "refund.request",
        actor=staff_user,
        obj=refund,
        order=refund.order_id,
        amount=refund.amount,
        currency=refund.currency,
        outcome="failed",
        details={"code": code},
    )
