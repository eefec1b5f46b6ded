"""Starting, cancelling and recording payment attempts. The only place that calls Stripe.

Starting a payment runs in three steps so that no database lock is held while Stripe is
called and a retry repeats exactly the same Stripe request:

1. one transaction: lock the order, check it may be paid, and pick the attempt: the open
   PaymentIntent to hand out again, an attempt whose Stripe creation failed earlier (to be
   repeated), or a new one with its parameters fixed;
2. the Stripe call, with the deterministic idempotency key `order-<id>-attempt-<n>`;
3. one transaction: store the Stripe id on the attempt and write the audit entry.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import record
from catalog.amounts import check_amount, check_chargeable
from catalog.money import format_amount
from core.errors import ShopError
from observability import logging as log_context
from orders.locks import lock_order
from orders.models import Order, OrderStatus
from orders.services import extend_reservation
from payments import declines
from payments.errors import (
    DuplicateSubmission,
    NotRefundable,
    OrderNotPayable,
    OverRefund,
    PaymentInProgress,
    PaymentsDisabled,
    ReservationExpired,
    StripeRefused,
    TooManyFailedPayments,
)
from payments.gateway import client as stripe_client
from payments.gateway import mirror
from payments.locks import (
    attempts_for_update,
    lock_attempt,
    lock_order_and_attempt,
    lock_refund,
    lock_refund_by_uuid,
    lock_refunds,
)
from payments.models import (
    IN_FLIGHT,
    OPEN,
    AttemptStatus,
    PaymentAttempt,
    Refund,
    RefundStatus,
    StripeCustomer,
)

logger = logging.getLogger(__name__)

Kind = PaymentAttempt.Kind
# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=31)
# Stripe's answers to a cancel or expire of an object that is not open. Not proof that it
# is closed: it may have been paid a moment ago. Stripe is asked (_closed_at_stripe).
UNEXPECTED_STATE_CODES = {"payment_intent_unexpected_state", "checkout_session_unexpected_state"}


@dataclass(frozen=True)
class StartedCheckout:
    attempt: PaymentAttempt
    url: str


@dataclass(frozen=True)
class StartedPaymentIntent:
    attempt: PaymentAttempt
    client_secret: str


# --- guards ----------------------------------------------------------------------------
def _audit_attempt(action: str, order: Order, user, attempt=None, **details) -> dict:
    return {
        "action": action,
        "actor": user,
        "obj": attempt or order,
        "order": order,
        "amount": order.total,
        "currency": order.currency,
        "details": details,
    }


def recent_payment_failures(user) -> int:
    """The shopper's declines in the last hour, as Stripe's failure events reported them."""
    return declines.recent_count(user.pk)


def _check_payments_allowed(user, order_id: int, kind: str, client_address: str = "") -> None:
    if not settings.PAYMENTS_ENABLED:
        raise PaymentsDisabled(
            audit={
                "action": "payment_attempt.create",
                "actor": user,
                "order": order_id,
                "details": {"kind": kind, "reason": "payments_disabled"},
            }
        )
    # Declines counted from Stripe's events, by shopper, client address and card.
    block = declines.block_for(user_id=user.pk, address=client_address)
    if block is not None:
        raise TooManyFailedPayments(
            retry_after=block.retry_after,
            audit={
                "action": "payment_attempt.create",
                "actor": user,
                "order": order_id,
                "details": {"kind": kind, "reason": "velocity", "limit": block.key},
            },
        )


def _lock_payable_order(user, order_id: int, kind: str) -> Order:
    order = lock_order(order_id, user=user)
    audit = _audit_attempt("payment_attempt.create", order, user, kind=kind, status=order.status)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise OrderNotPayable(
            f"An order that is {order.get_status_display().lower()} cannot be paid.",
            audit=audit,
        )
    if order.reserved_until <= timezone.now():
        raise ReservationExpired(audit=audit)
    # Stripe's currency rules and minimum, our maximum: 400, and Stripe is never called.
    check_chargeable(order.total, order.currency, audit=audit)
    return order


def _next_number(order: Order) -> int:
    return (order.payment_attempts.aggregate(n=Max("number"))["n"] or 0) + 1


# --- Stripe requests, built on the server from the frozen order -------------------------
def _frontend_url(path: str) -> str:
    base = (
        settings.FRONTEND_URL
        if settings.FRONTEND_URL.endswith("/")
        else (settings.FRONTEND_URL + "/")
    )
    return urljoin(base, path)


def _metadata(attempt: PaymentAttempt) -> dict:
    """Our ids, and the shop's name: Stripe sends every event of an account to every
    endpoint, and the webhook handlers ignore objects that name another shop."""
    return {
        "shop": settings.SHOP_ID,
        "order_id": str(attempt.order_id),
        "attempt": str(attempt.number),
    }


def checkout_session_params(attempt: PaymentAttempt, customer_id: str) -> dict:
    order = attempt.order
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.name},
                },
                "quantity": line.quantity,
            }
            for line in order.lines.all()
        ],
        "success_url": _frontend_url(f"orders/{order.pk}?session_id={{CHECKOUT_SESSION_ID}}"),
        "cancel_url": _frontend_url(f"orders/{order.pk}?checkout=cancelled"),
        "expires_at": int(attempt.checkout_expires_at.timestamp()),
        "customer": customer_id,
        "client_reference_id": str(order.pk),
        "metadata": _metadata(attempt),
        "payment_intent_data": {"metadata": _metadata(attempt)},
    }


def payment_intent_params(attempt: PaymentAttempt, customer_id: str) -> dict:
    order = attempt.order
    return {
        "amount": attempt.amount,
        "currency": attempt.currency,
        "customer": customer_id,
        "automatic_payment_methods": {"enabled": True},
        "receipt_email": order.email,
        "description": f"Order {order.number}",
        "metadata": _metadata(attempt),
    }


def _idempotency(key: str) -> dict:
    return {"idempotency_key": key}


# --- starting a payment ---------------------------------------------------------------
@transaction.atomic
def _prepare_attempt(*, user, order_id: int, kind: str, client_address: str = ""):
    """Step 1. Returns (attempt, previous open checkout attempts to expire)."""
    order = _lock_payable_order(user, order_id, kind)
    attempts = attempts_for_update(order)
    if (
        attempts.filter(status=AttemptStatus.SUCCEEDED).exists()
        or attempts.filter(status__in=IN_FLIGHT).exists()
    ):
        raise PaymentInProgress(
            audit=_audit_attempt("payment_attempt.create", order, user, kind=kind)
        )
    same_kind_open = [a for a in attempts if a.kind == kind and a.status in OPEN]
    # A PaymentIntent is handed out again while it is usable, unless it collected its
    # share of declines (it is closed below); an attempt whose Stripe creation failed is
    # repeated with its own number (and so its own idempotency key).
    capped = declines.capped_attempt_ids([a.pk for a in same_kind_open])
    reusable = next(
        (
            a
            for a in reversed(same_kind_open)
            if a.pk not in capped and (not a.created_at_stripe or kind == Kind.PAYMENT_INTENT)
        ),
        None,
    )
    to_close = [
        a for a in attempts if a.status in OPEN and a.created_at_stripe and a is not reusable
    ]
    if reusable is not None:
        return reusable, to_close

    attempt = PaymentAttempt(
        order=order,
        number=_next_number(order),
        kind=kind,
        amount=order.total,
        currency=order.currency,
        client_address=client_address[:64],
    )
    reserved_until = order.reserved_until
    if attempt.number == 1:
        # A new order holds its stock only briefly (ORDER_HOLD_MINUTES); the first payment
        # attempt turns that into the full reservation. Later attempts do not extend it.
        reserved_until = max(
            reserved_until,
            timezone.now() + timedelta(minutes=settings.ORDER_RESERVATION_MINUTES),
        )
    if kind == Kind.CHECKOUT_SESSION:
        # The session lives as long as the reservation, and at least Stripe's minimum;
        # the reservation is stretched to match so stock is held while the shopper pays.
        expires_at = max(reserved_until, timezone.now() + CHECKOUT_MIN_LIFETIME)
        attempt.checkout_expires_at = expires_at.replace(microsecond=0)
        reserved_until = max(reserved_until, attempt.checkout_expires_at)
    extend_reservation(order, reserved_until)
    attempt.save()
    return attempt, to_close


@contextmanager
def _stripe_step(attempt: PaymentAttempt, user):
    """Step 2: on a Stripe failure the attempt stays for a retry and the audit says so."""
    log_context.bind(order_id=attempt.order_id, attempt_id=attempt.pk)  # for the call's logs
    try:
        yield
    except ShopError as exc:
        exc.audit = _audit_attempt(
            "payment_attempt.create",
            attempt.order,
            user,
            attempt,
            kind=attempt.kind,
            number=attempt.number,
        ) | {"outcome": "failed"}
        raise


@transaction.atomic
def _store_stripe_ids(attempt: PaymentAttempt, user, **stripe_ids) -> PaymentAttempt:
    """Step 3."""
    _, locked = lock_order_and_attempt(attempt.order_id, attempt.pk)
    changed = [field for field, value in stripe_ids.items() if getattr(locked, field) != value]
    if changed:
        for field in changed:
            setattr(locked, field, stripe_ids[field])
        locked.save(update_fields=[*changed, "updated_at"])
        record(
            "payment_attempt.created",
            actor=user,
            obj=locked,
            order=locked.order_id,
            amount=locked.amount,
            currency=locked.currency,
            details={"kind": locked.kind, "number": locked.number, **stripe_ids},
        )
    return locked


def start_checkout_session(*, user, order_id: int, client_address: str = "") -> StartedCheckout:
    _check_payments_allowed(user, order_id, Kind.CHECKOUT_SESSION, client_address)
    attempt, to_close = _prepare_attempt(
        user=user, order_id=order_id, kind=Kind.CHECKOUT_SESSION, client_address=client_address
    )
    for previous in to_close:
        close_attempt_at_stripe(previous, actor=user)
    with _stripe_step(attempt, user):
        params = checkout_session_params(attempt, ensure_customer(user))
        session = stripe_client.call(
            "checkout.sessions.create",
            lambda c: c.v1.checkout.sessions.create(
                params=params, options=_idempotency(attempt.stripe_idempotency_key)
            ),
        )
    attempt = _store_stripe_ids(attempt, user, stripe_checkout_session_id=session.id)
    return StartedCheckout(attempt=attempt, url=session.url)


def start_payment_intent(*, user, order_id: int, client_address: str = "") -> StartedPaymentIntent:
    _check_payments_allowed(user, order_id, Kind.PAYMENT_INTENT, client_address)
    attempt, to_close = _prepare_attempt(
        user=user, order_id=order_id, kind=Kind.PAYMENT_INTENT, client_address=client_address
    )
    for previous in to_close:
        close_attempt_at_stripe(previous, actor=user)
    with _stripe_step(attempt, user):
        if attempt.stripe_payment_intent_id:
            intent = stripe_client.call(
                "payment_intents.retrieve",
                lambda c: c.v1.payment_intents.retrieve(attempt.stripe_payment_intent_id),
            )
            return StartedPaymentIntent(attempt=attempt, client_secret=intent.client_secret)
        params = payment_intent_params(attempt, ensure_customer(user))
        intent = stripe_client.call(
            "payment_intents.create",
            lambda c: c.v1.payment_intents.create(
                params=params, options=_idempotency(attempt.stripe_idempotency_key)
            ),
        )
    attempt = _store_stripe_ids(attempt, user, stripe_payment_intent_id=intent.id)
    return StartedPaymentIntent(attempt=attempt, client_secret=intent.client_secret)


# --- customers -------------------------------------------------------------------------
def ensure_customer(user) -> str:
    """The shopper's Stripe customer id, created at Stripe the first time it is needed.

    Called with no lock held. Two requests at once send the same idempotency key
    (`customer-<user id>`), so Stripe makes one customer and both store the same id.
    """
    known = StripeCustomer.objects.filter(user=user).values_list("stripe_customer_id", flat=True)
    if known:
        return known[0]
    customer = stripe_client.call(
        "customers.create",
        lambda c: c.v1.customers.create(
            params={"email": user.email, "metadata": {"user_id": str(user.pk)}},
            options=_idempotency(f"customer-{user.pk}"),
        ),
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(user=user, stripe_customer_id=customer.id)
            record(
                "stripe_customer.created",
                actor=user,
                obj=user,
                details={"stripe_customer": customer.id},
            )
            mirror.after_commit(customer.to_dict(for_json=True))
    except IntegrityError:
        pass  # a concurrent request stored it first: the same customer, by the same key
    return StripeCustomer.objects.get(user=user).stripe_customer_id


# --- closing attempts ----------------------------------------------------------------
def close_attempt_at_stripe(attempt: PaymentAttempt, *, actor=None) -> None:
    """Expire the Session or cancel the PaymentIntent at Stripe, then mark it canceled.

    Idempotent: an object Stripe reports closed (canceled, expired) counts as done. One
    that Stripe reports paid or being paid raises PaymentInProgress (409): the caller's
    transaction rolls back and the webhook records the payment.
    """
    if attempt.created_at_stripe:
        if attempt.kind == Kind.CHECKOUT_SESSION:
            operation = "checkout.sessions.expire"
            function = lambda c: c.v1.checkout.sessions.expire(  # noqa: E731
                attempt.stripe_checkout_session_id,
                options=_idempotency(f"{attempt.stripe_idempotency_key}-close"),
            )
        else:
            operation = "payment_intents.cancel"
            function = lambda c: c.v1.payment_intents.cancel(  # noqa: E731
                attempt.stripe_payment_intent_id,
                options=_idempotency(f"{attempt.stripe_idempotency_key}-close"),
            )
        try:
            stripe_client.call(operation, function)
        except ShopError as exc:
            if getattr(exc, "stripe_code", None) not in UNEXPECTED_STATE_CODES:
                raise
            closed, state = _closed_at_stripe(attempt)
            if not closed:
                raise PaymentInProgress(
                    "This order's payment went through or is being processed at the "
                    "payment provider; it cannot be cancelled.",
                    audit=_audit_attempt(
                        "payment_attempt.close",
                        attempt.order,
                        actor,
                        attempt,
                        kind=attempt.kind,
                        stripe_state=state,
                    ),
                ) from exc
    with transaction.atomic():
        locked = lock_attempt(attempt.pk)
        if locked.status in OPEN:
            locked.cancel()
            locked.save()
            record(
                "payment_attempt.canceled",
                actor=actor,
                actor_label="" if actor else "system",
                obj=locked,
                order=locked.order_id,
                amount=locked.amount,
                currency=locked.currency,
                details={"kind": locked.kind},
            )


def _closed_at_stripe(attempt: PaymentAttempt) -> tuple[bool, str]:
    """(whether Stripe says the object is closed for good, its state for people).

    Only a canceled PaymentIntent or an expired Session is closed. Succeeded, processing
    or requires_capture (authorized), a complete Session (paid, or unpaid while a delayed
    method settles): money is taken or on its way.
    """
    if attempt.kind == Kind.CHECKOUT_SESSION:
        session = stripe_client.call(
            "checkout.sessions.retrieve",
            lambda c: c.v1.checkout.sessions.retrieve(attempt.stripe_checkout_session_id),
        )
        return session.status == "expired", f"{session.status}/{session.payment_status}"
    intent = stripe_client.call(
        "payment_intents.retrieve",
        lambda c: c.v1.payment_intents.retrieve(attempt.stripe_payment_intent_id),
    )
    return intent.status == "canceled", intent.status


def close_open_attempts(order: Order, *, actor=None) -> None:
    """For an order closing unpaid (cancel, expiry), inside the caller's transaction."""
    attempts = list(attempts_for_update(order))
    if any(a.status in IN_FLIGHT for a in attempts):
        raise PaymentInProgress(
            "A payment for this order is already being processed; it cannot be cancelled now."
        )
    for attempt in attempts:
        if attempt.status in OPEN:
            close_attempt_at_stripe(attempt, actor=actor)


# --- recording outcomes (webhooks call these) ------------------------------------------
def record_payment_failure(attempt: PaymentAttempt, *, code: str, message: str) -> None:
    """Inside the caller's transaction, with the order and the attempt locked."""
    attempt.mark_failed(code, message)
    attempt.save()
    record(
        "payment.failed",
        actor_label="stripe",
        obj=attempt,
        order=attempt.order_id,
        amount=attempt.amount,
        currency=attempt.currency,
        details={"code": code, "kind": attempt.kind},
    )


# --- refunds (staff) -------------------------------------------------------------------
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
                params=params, options=_idempotency(f"refund-{request_uuid}")
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
