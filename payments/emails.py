"""The e-mails payments sends: receipts, failed payments and staff alerts, their text.

Handlers decide an e-mail inside their transaction with `queue(compose, ...)`: it is
composed then and stored in the outbox (notifications.services), which commits (or rolls
back) with the payment it is about and sends it after the commit.
"""

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.money import format_amount
from notifications import selectors as notification_selectors
from notifications import services as outbox
from notifications.models import OutboxEmail
from notifications.services import Message
from orders.models import Order
from orders.selectors import read_lines


def queue(compose, *args, **kwargs) -> OutboxEmail:
    """Compose the e-mail and store it in the caller's transaction; sent once that commits."""
    return outbox.queue(compose(*args, **kwargs))


def receipt(order: Order | int) -> Message:
    """The receipt of a paid order: the order itself (its lines read once, or already
    read by the payment, orders.payment_outcomes.record_payment), or its id."""
    if isinstance(order, Order):
        read_lines(order)  # no query when the payment read them
    else:
        order = Order.objects.prefetch_related("lines").get(pk=order)
    for line in order.lines.all():
        line.line_total_display = format_amount(line.line_total, order.currency)
    return Message(
        "receipt",
        f"Receipt for order {order.number}",
        render_to_string(
            "emails/receipt.txt",
            {"order": order, "total": format_amount(order.total, order.currency)},
        ),
        [order.email],
        order.pk,
    )


def payment_failed(order_id: int, message: str) -> Message:
    order = Order.objects.get(pk=order_id)
    return Message(
        "payment_failed",
        f"Payment for order {order.number} did not go through",
        render_to_string("emails/payment_failed.txt", {"order": order, "message": message}),
        [order.email],
        order.pk,
    )


def payment_failed_recently(order_id: int) -> bool:
    """A "payment failed" e-mail for this order went out within the throttle window.

    A card tester's declines would otherwise mail the order's address once per card.
    Called with the order locked, so two declines at once cannot both pass.
    """
    minutes = settings.PAYMENT_FAILED_EMAIL_INTERVAL_MINUTES
    if minutes <= 0:
        return False
    return notification_selectors.queued_since(
        kind="payment_failed",
        order_id=order_id,
        since=timezone.now() - timedelta(minutes=minutes),
    )


def staff_alert(summary: str, *, order: Order | None = None, **details) -> Message:
    return Message(
        outbox.STAFF_ALERT,
        f"[shop alert] {summary}",
        render_to_string(
            "emails/staff_alert.txt",
            {
                "summary": summary,
                "order_number": order.number if order else "",
                "order_id": order.pk if order else "",
                "details": details,
            },
        ),
        list(settings.STAFF_ALERT_EMAILS),
        order.pk if order else None,
    )
