"""PaymentIntent events: the PaymentIntent's attempt, found and locked, then what Stripe
says happened to it (attempt_outcomes)."""

from payments.handlers.attempt_outcomes import move, record_failure, record_success
from payments.handlers.lookup import adopt_ids, lock_attempt
from payments.handlers.registry import handles
from payments.handlers.stripe_objects import stripe_id
from payments.models import WebhookEvent


@handles("payment_intent.succeeded")
def payment_intent_succeeded(event: WebhookEvent):
    intent = event.data_object
    order, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    adopted = adopt_ids(
        attempt,
        payment_intent_id=intent.get("id", ""),
        charge_id=stripe_id(intent.get("latest_charge")),
        save=False,  # written with the attempt's success, in one UPDATE
    )
    return record_success(
        order,
        attempt,
        amount=intent.get("amount_received"),
        currency=intent.get("currency"),
        event=event,
        adopted=adopted,
    )


@handles("payment_intent.processing")
def payment_intent_processing(event: WebhookEvent):
    intent = event.data_object
    _, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    return move(attempt, "mark_processing", event)


@handles("payment_intent.requires_action")
def payment_intent_requires_action(event: WebhookEvent):
    intent = event.data_object
    _, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    return move(attempt, "require_action", event)


@handles("payment_intent.amount_capturable_updated")
def payment_intent_authorized(event: WebhookEvent):
    intent = event.data_object
    _, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    adopt_ids(attempt, charge_id=stripe_id(intent.get("latest_charge")))
    return move(attempt, "mark_authorized", event)


@handles("payment_intent.payment_failed")
def payment_intent_failed(event: WebhookEvent):
    intent = event.data_object
    order, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    code = _text(error.get("decline_code")) or _text(error.get("code")) or "payment_failed"
    # Stripe's message on a card error is written to be shown to the card holder.
    message = _text(error.get("message")) or "Your payment was declined."
    return record_failure(order, attempt, code=code, message=message, event=event)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


@handles("payment_intent.canceled")
def payment_intent_canceled(event: WebhookEvent):
    intent = event.data_object
    _, attempt = lock_attempt(payment_intent_id=intent.get("id", ""), obj=intent)
    return move(attempt, "cancel", event)
