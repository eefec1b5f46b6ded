"""E-mails to shoppers and staff alerts, through a transactional outbox.

Handlers decide an e-mail inside their transaction with `queue(...)`: the message is
composed then and stored as an `OutboxEmail` row that commits (or rolls back) with the
payment it is about. Right after the commit the same process sends it; a worker killed in
between, or a mail server that refused, leaves the row for `send_unsent()` (beat, every
minute), which queues a task per unsent e-mail. Nothing is sent for a transaction that
rolled back, and nothing committed is lost.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.money import format_amount
from observability.redaction import redact
from orders.models import Order
from payments.models import OutboxEmail

logger = logging.getLogger(__name__)

# Past this many failed sends an e-mail stays unsent and visible (last_error) for a person.
MAX_SEND_ATTEMPTS = 10


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str
    recipients: list[str]
    order_id: int | None = None


# --- composing (inside the transaction) --------------------------------------------------
def receipt(order_id: int) -> Message:
    order = Order.objects.prefetch_related("lines").get(pk=order_id)
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
    return OutboxEmail.objects.filter(
        kind="payment_failed",
        order_id=order_id,
        created_at__gte=timezone.now() - timedelta(minutes=minutes),
    ).exists()


def staff_alert(summary: str, *, order: Order | None = None, **details) -> Message:
    return Message(
        "staff_alert",
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


def queue(compose, *args, **kwargs) -> OutboxEmail:
    """Store the e-mail in the caller's transaction; it is sent once that commits."""
    message = compose(*args, **kwargs)
    row = OutboxEmail.objects.create(
        kind=message.kind,
        order_id=message.order_id,
        subject=message.subject[:255],
        body=message.body,
        recipients=message.recipients,
    )
    transaction.on_commit(lambda: _send_after_commit(row.pk))
    return row


def _send_after_commit(pk: int) -> None:
    """Send at once, in the process that committed; a failure leaves it to the sweep."""
    try:
        send(pk)
    except Exception:  # an e-mail problem must not undo or repeat the payment
        logger.exception("e-mail %s not sent after commit; the sweep will retry", pk)


def _enqueue(pk: int) -> None:
    from payments.tasks import send_outbox_email

    try:
        send_outbox_email.apply_async((pk,), retry=False)
    except Exception as exc:  # broker down: the row is committed, send_unsent() sends it
        logger.warning("e-mail %s stored but not queued (%s)", pk, type(exc).__name__)


# --- sending (after the commit) ---------------------------------------------------------
def send(pk: int) -> str:
    """Send one stored e-mail unless it was sent already or another worker is on it."""
    with transaction.atomic():
        row = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, sent_at=None)
            .first()
        )
        if row is None:
            return "skipped"
        row.attempts += 1
        if row.kind == "staff_alert":
            logger.warning("ALERT %s (order %s)", row.subject, row.order_id or "-")
        message = EmailMessage(
            row.subject,
            row.body,
            settings.DEFAULT_FROM_EMAIL,
            row.recipients,
            headers={"Message-ID": row.message_id},
        )
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # the mail server refused or is down: try again later
            # Redacted: a mail server's refusal can quote the recipient or the credentials.
            row.last_error = redact(f"{type(exc).__name__}: {exc}")[:500]
            row.save(update_fields=["attempts", "last_error"])
            logger.warning("e-mail %s not sent (%s); will retry", pk, type(exc).__name__)
            return "failed"
        row.sent_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["attempts", "sent_at", "last_error"])
    return "sent"


def send_unsent(grace_seconds: int | None = None, limit: int = 500) -> int:
    """Queue e-mails still unsent a while after they were stored (lost task, dead worker)."""
    grace = settings.WEBHOOK_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    pks = list(
        OutboxEmail.objects.filter(
            sent_at=None, created_at__lte=cutoff, attempts__lt=MAX_SEND_ATTEMPTS
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        _enqueue(pk)
    if pks:
        logger.warning("e-mail sweep re-queued %s unsent e-mail(s)", len(pks))
    return len(pks)
