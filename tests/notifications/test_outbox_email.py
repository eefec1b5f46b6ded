"""E-mails commit with the payment they are about, and reach the shopper after a crash."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from notifications import services as outbox
from notifications.models import OutboxEmail
from notifications.tasks import send_unsent_emails
from payments import emails
from payments.webhooks import processing
from payments.webhooks.inbox import store_event
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def process_without_sending(event, django_capture_on_commit_callbacks):
    """The worker commits the payment, then dies before its after-commit work runs."""
    event_pk, _ = store_event(event)
    with django_capture_on_commit_callbacks(execute=False):
        processing.process(event_pk)


def age_outbox(seconds=120):
    OutboxEmail.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_the_receipt_is_sent_after_commit_with_a_stable_message_id(send_event, start_payment):
    attempt = start_payment()
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    [row] = OutboxEmail.objects.all()
    assert row.kind == "receipt" and row.sent_at is not None and row.attempts == 1
    [sent] = mail.outbox
    assert sent.subject == f"Receipt for order {attempt.order.number}"
    assert sent.to == [attempt.order.email]
    assert sent.extra_headers["Message-ID"] == f"<outbox-{row.pk}@shop.invalid>"
    assert outbox.send(row.pk) == "skipped"  # a duplicate task sends nothing
    assert send_unsent_emails() == 0
    assert len(mail.outbox) == 1


def test_a_worker_dying_after_the_commit_loses_no_receipt(
    start_payment, django_capture_on_commit_callbacks
):
    attempt = start_payment()
    event = se.event("payment_intent.succeeded", se.payment_intent(attempt))
    process_without_sending(event, django_capture_on_commit_callbacks)
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"
    assert mail.outbox == []
    [row] = OutboxEmail.objects.filter(sent_at=None)

    assert send_unsent_emails() == 0  # too recent: its own task may still be coming
    age_outbox()
    assert send_unsent_emails() == 1  # eager: queued and sent at once
    assert [m.subject for m in mail.outbox] == [f"Receipt for order {attempt.order.number}"]
    assert send_unsent_emails() == 0
    row.refresh_from_db()
    assert row.sent_at is not None


def test_nothing_is_sent_for_a_transaction_that_rolled_back(
    start_payment, django_capture_on_commit_callbacks
):
    attempt = start_payment()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        emails.queue(emails.receipt, attempt.order_id)
        raise RuntimeError("the payment's transaction failed")
    assert not OutboxEmail.objects.exists()
    assert mail.outbox == []


def test_a_mail_server_outage_keeps_the_email_until_it_is_back(send_event, start_payment, settings):
    attempt = start_payment()
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox_email.RefusingBackend"
    send_event(
        se.event(
            "payment_intent.payment_failed",
            se.payment_intent(
                attempt,
                status="requires_payment_method",
                error={"code": "card_declined", "message": "Your card was declined."},
            ),
        )
    )
    [row] = OutboxEmail.objects.all()
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    age_outbox()
    assert send_unsent_emails() == 1
    [sent] = mail.outbox
    assert sent.subject == f"Payment for order {attempt.order.number} did not go through"
    assert "Your card was declined." in sent.body
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


def test_a_staff_alert_logs_its_alert_line_when_sent(send_event, start_payment, caplog):
    attempt = start_payment()
    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        send_event(
            se.event("payment_intent.succeeded", se.payment_intent(attempt, amount_received=1))
        )
    assert any(m.subject.startswith("[shop alert] Order ") for m in mail.outbox)
    assert f"ALERT [shop alert] Order {attempt.order.number} needs review" in caplog.text
