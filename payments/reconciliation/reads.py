"""What Stripe says, read for the reconciliation: an attempt's PaymentIntent or Checkout
Session and the attempt status it means, a PaymentIntent's refunds, the events Stripe could
not deliver. Nothing here changes a row."""

from dataclasses import dataclass
from datetime import datetime

from payments.gateway import client as stripe_client
from payments.handlers.registry import HANDLERS
from payments.handlers.stripe_objects import stripe_id
from payments.models import AttemptStatus, PaymentAttempt

A = AttemptStatus

PAYMENT_INTENT_STATUS = {
    "requires_payment_method": A.REQUIRES_PAYMENT,
    "requires_confirmation": A.REQUIRES_PAYMENT,
    "requires_action": A.REQUIRES_ACTION,
    "processing": A.PROCESSING,
    "requires_capture": A.AUTHORIZED,
    "succeeded": A.SUCCEEDED,
    "canceled": A.CANCELED,
}
PAYMENT_INTENT_EVENT = {
    A.SUCCEEDED: "payment_intent.succeeded",
    A.PROCESSING: "payment_intent.processing",
    A.REQUIRES_ACTION: "payment_intent.requires_action",
    A.AUTHORIZED: "payment_intent.amount_capturable_updated",
    A.FAILED: "payment_intent.payment_failed",
    A.CANCELED: "payment_intent.canceled",
}
# The Events API accepts at most this many types in one `types` filter.
EVENT_TYPES_PER_QUERY = 20


def fetch(operation: str, function) -> dict:
    return stripe_client.call(operation, function).to_dict(for_json=True)


def fetch_all(operation: str, function) -> list[dict]:
    return stripe_client.call(
        operation, lambda c: [item.to_dict(for_json=True) for item in function(c)]
    )


def _payment_intent_expectation(intent: dict) -> str:
    if intent.get("status") == "requires_payment_method" and intent.get("last_payment_error"):
        return A.FAILED
    return PAYMENT_INTENT_STATUS.get(intent.get("status"), A.REQUIRES_PAYMENT)


def _session_expectation(session: dict) -> tuple[str, str | None]:
    """(the attempt status the session means, the event that carries it)."""
    if session.get("status") == "expired":
        return A.CANCELED, "checkout.session.expired"
    if session.get("status") != "complete":
        return A.REQUIRES_PAYMENT, None
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return A.SUCCEEDED, "checkout.session.completed"
    intent = session.get("payment_intent")
    if isinstance(intent, dict) and _payment_intent_expectation(intent) == A.FAILED:
        return A.FAILED, "checkout.session.async_payment_failed"
    return A.PROCESSING, "checkout.session.completed"


@dataclass(frozen=True)
class StripePayment:
    """What Stripe says about one attempt."""

    obj: dict  # the PaymentIntent or Checkout Session, as a handler reads it
    expected: str  # the attempt status it means
    event_type: str | None
    amount: int | None
    currency: str
    state: str  # for the key of the fix and for people
    payment_intent_id: str


def read_payment(attempt: PaymentAttempt) -> StripePayment:
    if attempt.kind == PaymentAttempt.Kind.CHECKOUT_SESSION:
        session = fetch(
            "checkout.sessions.retrieve",
            lambda c: c.v1.checkout.sessions.retrieve(
                attempt.stripe_checkout_session_id, params={"expand": ["payment_intent"]}
            ),
        )
        expected, event_type = _session_expectation(session)
        intent = session.get("payment_intent")
        session_for_handler = {**session, "payment_intent": stripe_id(intent) or None}
        return StripePayment(
            obj=session_for_handler,
            expected=expected,
            event_type=event_type,
            amount=session.get("amount_total"),
            currency=session.get("currency") or "",
            state=f"{session.get('status')}/{session.get('payment_status')}",
            payment_intent_id=stripe_id(intent),
        )
    intent = fetch(
        "payment_intents.retrieve",
        lambda c: c.v1.payment_intents.retrieve(attempt.stripe_payment_intent_id),
    )
    expected = _payment_intent_expectation(intent)
    error = intent.get("last_payment_error") or {}
    return StripePayment(
        obj=intent,
        expected=expected,
        event_type=PAYMENT_INTENT_EVENT.get(expected),
        amount=intent.get("amount_received"),
        currency=intent.get("currency") or "",
        state=f"{intent.get('status')}/{intent.get('amount_received')}"
        + (f"/{error.get('decline_code') or error.get('code')}" if error else ""),
        payment_intent_id=intent.get("id") or "",
    )


def refunds_at_stripe(payment_intent_id: str) -> list[dict]:
    """The PaymentIntent's refunds at Stripe (none without a PaymentIntent)."""
    if not payment_intent_id:
        return []
    return fetch_all(
        "refunds.list",
        lambda c: c.v1.refunds.list(
            params={"payment_intent": payment_intent_id, "limit": 100}
        ).auto_paging_iter(),
    )


def _handled_types() -> list[str]:
    return sorted(HANDLERS)


def undelivered_events(since: datetime) -> list[dict]:
    types = _handled_types()
    events = []
    for start in range(0, len(types), EVENT_TYPES_PER_QUERY):
        chunk = types[start : start + EVENT_TYPES_PER_QUERY]
        events += fetch_all(
            "events.list",
            lambda c, chunk=chunk: c.v1.events.list(
                params={
                    "delivery_success": False,
                    "created": {"gte": int(since.timestamp())},
                    "types": chunk,
                    "limit": 100,
                }
            ).auto_paging_iter(),
        )
    return events
