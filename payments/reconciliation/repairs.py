"""Applying Stripe's truth: each repair a finding carries. A Stripe object goes through the
webhook handlers (an inbox row whose source is "reconciliation", keyed by object and state
so the same truth is applied once); an undelivered event is stored and processed like a
delivery; what no state machine may do puts the order in `needs_review` for a person; a
refund Stripe never received is sent again with its own key."""

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from orders.locks import lock_order
from orders.models import Order, OrderStatus
from payments.handlers.review import flag_for_review
from payments.models import Refund, WebhookEvent
from payments.refunds.services import send_refund
from payments.webhooks import inbox, processing


def apply_stripe_object(event_type: str, obj: dict, *, state: str) -> str:
    """Run `obj` through the handler for `event_type`, once per (object, state)."""
    event = {
        "id": f"reconciliation:{event_type}:{obj.get('id')}:{state}"[:255],
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": int(time.time()),
        "livemode": bool(obj.get("livemode")),
        "type": event_type,
        "data": {"object": obj},
    }
    event_pk, _ = inbox.store_event(event, source=WebhookEvent.Source.RECONCILIATION)
    processing.process(event_pk)
    row = WebhookEvent.objects.get(pk=event_pk)
    return f"applied {event_type}: {row.status}" + (
        f" ({row.last_error})" if row.last_error else ""
    )


def ingest_event(event: dict) -> str:
    """Store an event Stripe could not deliver and process it like a delivery."""
    event_pk, _ = inbox.store_event(event, source=WebhookEvent.Source.EVENTS_API)
    processing.process(event_pk)
    row = WebhookEvent.objects.get(pk=event_pk)
    return f"stored and processed: {row.status}" + (
        f" ({row.last_error})" if row.last_error else ""
    )


def flag_repair(order_id: int, reason: str, **details) -> Callable[[], str] | None:
    """Hand the order to a person (needs_review), unless it is already with one."""
    if Order.objects.filter(pk=order_id, status=OrderStatus.NEEDS_REVIEW).exists():
        return None

    def repair() -> str:
        with transaction.atomic():
            order = lock_order(order_id)
            if order.status == OrderStatus.NEEDS_REVIEW:
                return "order already in needs review"
            flag_for_review(order, reason, source="reconciliation", **details)
        return "order put in needs review"

    return repair


def resend(refund: Refund) -> str:
    sent = send_refund(refund)
    return f"sent to Stripe again with refund-{refund.idempotency_uuid}: {sent.stripe_refund_id}"
