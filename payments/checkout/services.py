"""Starting a payment: a Checkout Session or a PaymentIntent for an order.

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

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import record
from catalog.amounts import check_chargeable
from core.errors import ShopError
from observability import logging as log_context
from orders.locks import lock_order
from orders.models import Order, OrderStatus
from orders.services import extend_reservation
from payments.checkout import declines
from payments.checkout.closing import attempt_audit, close_attempt_at_stripe
from payments.checkout.customers import ensure_customer
from payments.checkout.params import checkout_session_params, idempotency, payment_intent_params
from payments.errors import (
    OrderNotPayable,
    PaymentInProgress,
    PaymentsDisabled,
    ReservationExpired,
    TooManyFailedPayments,
)
from payments.gateway import client as stripe_client
from payments.locks import attempts_for_update, lock_order_and_attempt
from payments.models import IN_FLIGHT, OPEN, AttemptStatus, PaymentAttempt

logger = logging.getLogger(__name__)

Kind = PaymentAttempt.Kind
# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=31)


@dataclass(frozen=True)
class StartedCheckout:
    attempt: PaymentAttempt
    url: str


@dataclass(frozen=True)
class StartedPaymentIntent:
    attempt: PaymentAttempt
    client_secret: str


# --- guards ----------------------------------------------------------------------------
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
    # No Stripe key: 503 payments_not_configured before an attempt is made or stock held.
    stripe_client.ensure_configured()
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
    audit = attempt_audit("payment_attempt.create", order, user, kind=kind, status=order.status)
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
            audit=attempt_audit("payment_attempt.create", order, user, kind=kind)
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
        exc.audit = attempt_audit(
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
                params=params, options=idempotency(attempt.stripe_idempotency_key)
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
                params=params, options=idempotency(attempt.stripe_idempotency_key)
            ),
        )
    attempt = _store_stripe_ids(attempt, user, stripe_payment_intent_id=intent.id)
    return StartedPaymentIntent(attempt=attempt, client_secret=intent.client_secret)
