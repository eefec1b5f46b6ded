"""The e-mail outbox: e-mails stored in the caller's transaction, sent after it commits.

An app decides an e-mail inside its transaction with `queue(message)`: the message, composed
by the app, is stored as an `OutboxEmail` row that commits (or rolls back) with what it is
about. Right after the commit the same process sends it; a worker killed in between, or a
mail server that refused, leaves the row for `send_unsent()` (beat, every minute), which
queues a task per unsent e-mail. Nothing is sent for a transaction that rolled back, and
nothing committed is lost. Sending is at least once, under a stable Message-ID
(`OutboxEmail.message_id`), so a repeat is recognisably the same message. Staff send a
stored e-mail again with `requeue` (the outbox's admin screen).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from core import rows
from notifications import tasks
from notifications.locks import claim_email, claim_unsent_email
from notifications.models import OutboxEmail
from observability.redaction import redact

logger = logging.getLogger(__name__)

# Past this many failed sends an e-mail stays unsent and visible (last_error) for a person.
MAX_SEND_ATTEMPTS = 10

# E-mails of this kind go to staff and are also logged as an `ALERT ...` line when sent.
STAFF_ALERT = "staff_alert"


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str
    recipients: list[str]
    order_id: int | None = None


# --- storing (inside the caller's transaction) -------------------------------------------
def queue(message: Message) -> OutboxEmail:
    """Store the e-mail in the caller's transaction; it is sent once that commits."""
    row = rows.insert(  # SQL built once (core.rows): every payment stores its receipt
        OutboxEmail(
            kind=message.kind,
            order_id=message.order_id,
            subject=message.subject[:255],
            body=message.body,
            recipients=message.recipients,
        )
    )
    transaction.on_commit(lambda: _send_after_commit(row.pk))
    return row


def _send_after_commit(pk: int) -> None:
    """Send at once, in the process that committed; a failure leaves it to the sweep."""
    try:
        send(pk)
    except Exception:  # an e-mail problem must not undo or repeat what it is about
        logger.exception("e-mail %s not sent after commit; the sweep will retry", pk)


def _enqueue(pk: int) -> None:
    try:
        tasks.send_outbox_email.apply_async((pk,), retry=False)
    except Exception as exc:  # broker down: the row is committed, send_unsent() sends it
        logger.warning("e-mail %s stored but not queued (%s)", pk, type(exc).__name__)


# --- sending (after the commit) ---------------------------------------------------------
def send(pk: int) -> str:
    """Send one stored e-mail unless it was sent already or another worker is on it."""
    with transaction.atomic():
        row = claim_unsent_email(pk)
        if row is None:
            return "skipped"
        row.attempts += 1
        if row.kind == STAFF_ALERT:
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
            rows.save_fields(row, ["attempts", "last_error"])
            logger.warning("e-mail %s not sent (%s); will retry", pk, type(exc).__name__)
            return "failed"
        row.sent_at = timezone.now()
        row.last_error = ""
        rows.save_fields(row, ["attempts", "sent_at", "last_error"])
    return "sent"


def send_unsent(grace_seconds: int | None = None, limit: int = 500) -> int:
    """Queue e-mails still unsent a while after they were stored (lost task, dead worker).

    The grace is the webhook sweep's (WEBHOOK_SWEEP_GRACE_SECONDS): one setting for both.
    """
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


# --- resending (staff, from the outbox's admin) -----------------------------------------
class Resend:
    QUEUED = "queued"
    BUSY = "busy"  # a worker (or another resend) holds the row right now
    ALREADY_SENT = "already_sent"


def requeue(pk: int, *, include_sent: bool = False) -> tuple[str, dict]:
    """Queue a stored e-mail to be sent again: one that failed (even past the automatic
    retries) or, with `include_sent`, one already sent (a shopper who lost it).

    The row is claimed (SKIP LOCKED), marked unsent with its retry count started afresh,
    and its send queued after the commit; the send claims it again (`send`), so it goes
    out once however many resends, sweeps and workers meet on it. Returns the outcome and
    the row as it was (order, sent at, attempts, last error) for the caller's audit.
    """
    with transaction.atomic():
        row = claim_email(pk)
        if row is None:
            return Resend.BUSY, {}
        before = {
            "order_id": row.order_id,
            "kind": row.kind,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "attempts": row.attempts,
            "last_error": row.last_error,
        }
        if row.sent_at is not None and not include_sent:
            return Resend.ALREADY_SENT, before
        row.sent_at = None
        row.attempts = 0
        row.save(update_fields=["sent_at", "attempts"])
        transaction.on_commit(lambda: _enqueue(pk))
    return Resend.QUEUED, before
