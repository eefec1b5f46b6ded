"""Checkout Session events: the Session's attempt, found and locked, then what Stripe says
happened to it (attempt_outcomes)."""

from payments.handlers.attempt_outcomes import (
    move,
    record_expired_session,
    record_failure,
    record_success,
)
from payments.handlers.lookup import adopt_ids, lock_attempt
from payments.handlers.registry import handles
from payments.handlers.stripe_objects import stripe_id
from payments.models import WebhookEvent


@handles("checkout.session.completed")
def checkout_session_completed(event: WebhookEvent):
    session = event.data_object
    order, attempt = lock_attempt(session_id=session.get("id", ""), obj=session)
    adopt_ids(
        attempt,
        session_id=session.get("id", ""),
        payment_intent_id=stripe_id(session.get("payment_intent")),
    )
    if session.get("payment_status") == "paid":
        return record_success(
            order,
            attempt,
            amount=session.get("amount_total"),
            currency=session.get("currency"),
            event=event,
        )
    if session.get("payment_status") == "unpaid":
        return move(attempt, "mark_processing", event)
    return f"payment_status {session.get('payment_status')}: nothing to do"


@handles("checkout.session.async_payment_succeeded")
def checkout_async_succeeded(event: WebhookEvent):
    session = event.data_object
    order, attempt = lock_attempt(session_id=session.get("id", ""), obj=session)
    adopt_ids(attempt, payment_intent_id=stripe_id(session.get("payment_intent")))
    return record_success(
        order,
        attempt,
        amount=session.get("amount_total"),
        currency=session.get("currency"),
        event=event,
    )


@handles("checkout.session.async_payment_failed")
def checkout_async_failed(event: WebhookEvent):
    session = event.data_object
    order, attempt = lock_attempt(session_id=session.get("id", ""), obj=session)
    return record_failure(
        order,
        attempt,
        code="async_payment_failed",
        message="The payment could not be completed. Please try again.",
        event=event,
    )


@handles("checkout.session.expired")
def checkout_session_expired(event: WebhookEvent):
    session = event.data_object
    order, attempt = lock_attempt(session_id=session.get("id", ""), obj=session)
    return record_expired_session(order, attempt, event)
