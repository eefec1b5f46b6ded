"""Closing payment attempts: the Checkout Session expired or the PaymentIntent cancelled at
Stripe, then the attempt marked canceled here. Used when a new attempt replaces an open
one, when an order closes unpaid, and by the decline limits and the kill switch."""

from django.db import transaction

from audit.services import record
from core.errors import ShopError
from orders.models import Order
from payments.checkout.params import idempotency
from payments.errors import PaymentInProgress
from payments.gateway import client as stripe_client
from payments.locks import attempts_for_update, lock_attempt
from payments.models import IN_FLIGHT, OPEN, PaymentAttempt

Kind = PaymentAttempt.Kind
# Stripe's answers to a cancel or expire of an object that is not open. Not proof that it
# is closed: it may have been paid a moment ago. Stripe is asked (_closed_at_stripe).
UNEXPECTED_STATE_CODES = {"payment_intent_unexpected_state", "checkout_session_unexpected_state"}


def attempt_audit(action: str, order: Order, user, attempt=None, **details) -> dict:
    """The audit entry a refused or failed step on an order's payment is recorded with."""
    return {
        "action": action,
        "actor": user,
        "obj": attempt or order,
        "order": order,
        "amount": order.total,
        "currency": order.currency,
        "details": details,
    }


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
                options=idempotency(f"{attempt.stripe_idempotency_key}-close"),
            )
        else:
            operation = "payment_intents.cancel"
            function = lambda c: c.v1.payment_intents.cancel(  # noqa: E731
                attempt.stripe_payment_intent_id,
                options=idempotency(f"{attempt.stripe_idempotency_key}-close"),
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
                    audit=attempt_audit(
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
