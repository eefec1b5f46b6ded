"""E-mails to shoppers and staff alerts. Called after commit, never inside a transaction."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from catalog.money import format_amount
from orders.models import Order

logger = logging.getLogger(__name__)


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> None:
    body = render_to_string(template, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)


def send_receipt(order_id: int) -> None:
    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    for line in order.lines.all():
        line.line_total_display = format_amount(line.line_total, order.currency)
    _send(
        f"Receipt for order {order.number}",
        "emails/receipt.txt",
        {"order": order, "total": format_amount(order.total, order.currency)},
        [order.email],
    )


def send_payment_failed(order_id: int, message: str) -> None:
    order = Order.objects.get(pk=order_id)
    _send(
        f"Payment for order {order.number} did not go through",
        "emails/payment_failed.txt",
        {"order": order, "message": message},
        [order.email],
    )


def alert_staff(summary: str, *, order: Order | None = None, **details) -> None:
    logger.warning("ALERT %s (order %s)", summary, order.pk if order else "-")
    _send(
        f"[shop alert] {summary}",
        "emails/staff_alert.txt",
        {
            "summary": summary,
            "order_number": order.number if order else "",
            "order_id": order.pk if order else "",
            "details": details,
        },
        settings.STAFF_ALERT_EMAILS,
    )


def after_commit(function, *args, **kwargs) -> None:
    """Run an outside effect once the surrounding transaction has committed."""

    def run():
        try:
            function(*args, **kwargs)
        except Exception:  # an e-mail failure must not undo or repeat the payment
            logger.exception("outside effect %s failed after commit", function.__name__)

    transaction.on_commit(run)
