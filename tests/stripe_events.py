"""Stripe events shaped like Stripe's objects at the pinned API version, signed for real."""

import itertools
import json
import time

import stripe
from django.conf import settings

_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def _metadata(attempt) -> dict:
    """What the shop puts in the metadata of its PaymentIntents and Sessions."""
    return {
        "shop": settings.SHOP_ID,
        "order_id": str(attempt.order_id),
        "attempt": str(attempt.number),
    }


def event(
    type_: str,
    obj: dict,
    *,
    event_id: str | None = None,
    created: int | None = None,
    livemode: bool = False,
) -> dict:
    return {
        "id": event_id or _next("evt_test"),
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def payment_intent(
    attempt,
    *,
    status="succeeded",
    amount=None,
    currency=None,
    amount_received=None,
    error=None,
    charge_id=None,
    **extra,
) -> dict:
    amount = attempt.amount if amount is None else amount
    return {
        "id": attempt.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": (amount if status == "succeeded" else 0)
        if amount_received is None
        else amount_received,
        "currency": currency or attempt.currency,
        "status": status,
        "capture_method": "automatic",
        "client_secret": "pi_secret_never_logged",
        "latest_charge": charge_id or (f"ch_for_{attempt.pk}" if status == "succeeded" else None),
        "last_payment_error": error,
        "metadata": _metadata(attempt),
        "livemode": False,
        **extra,
    }


def checkout_session(
    attempt,
    *,
    status="complete",
    payment_status="paid",
    amount=None,
    currency=None,
    payment_intent_id="pi_from_session",
    **extra,
) -> dict:
    return {
        "id": attempt.stripe_checkout_session_id,
        "object": "checkout.session",
        "amount_total": attempt.amount if amount is None else amount,
        "amount_subtotal": attempt.amount,
        "currency": currency or attempt.currency,
        "client_reference_id": str(attempt.order_id),
        "customer_email": "x@example.com",
        "metadata": _metadata(attempt),
        "mode": "payment",
        "payment_intent": payment_intent_id if status == "complete" else None,
        "payment_status": payment_status,
        "status": status,
        "livemode": False,
        **extra,
    }


def refund(
    payment_intent_id: str,
    *,
    amount: int,
    status="succeeded",
    refund_id=None,
    currency="usd",
    charge="ch_x",
    **extra,
) -> dict:
    return {
        "id": refund_id or _next("re_test"),
        "object": "refund",
        "amount": amount,
        "charge": charge,
        "currency": currency,
        "payment_intent": payment_intent_id,
        "status": status,
        "reason": "requested_by_customer",
        "failure_reason": None,
        "metadata": {},
        **extra,
    }


def dispute(
    payment_intent_id: str,
    *,
    amount: int,
    status="needs_response",
    dispute_id="dp_test_1",
    currency="usd",
    due_by=None,
) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "charge": "ch_x",
        "currency": currency,
        "payment_intent": payment_intent_id,
        "reason": "fraudulent",
        "status": status,
        "is_charge_refundable": False,
        "balance_transactions": [],
        "created": int(time.time()),
        "evidence": {"customer_email_address": None, "uncategorized_text": None},
        "livemode": False,
        "metadata": {},
        "evidence_details": {
            "due_by": due_by or int(time.time()) + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
    }


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )


def deliver(
    client,
    evt: dict | bytes,
    *,
    secret: str = "whsec_test_secret",
    timestamp: int | None = None,
    signature: str | None = None,
    **extra,
):
    payload = evt if isinstance(evt, bytes) else json.dumps(evt).encode()
    header = signature if signature is not None else sign(payload, secret, timestamp)
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return client.generic(
        "POST",
        "/api/v1/webhooks/stripe/",
        payload,
        content_type="application/json",
        **headers,
        **extra,
    )
