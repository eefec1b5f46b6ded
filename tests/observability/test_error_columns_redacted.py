"""Error text stored in a column (an event's or an e-mail's last error) is redacted like a
log line: an exception that quotes a key, a client secret or an address leaves none of them
in the database."""

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from notifications.models import OutboxEmail
from payments.handlers import registry
from payments.models import WebhookEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db

LEAKY_MAIL_ERROR = "535 auth failed for mailer:" + "smtp-pass" + " rcpt jane.doe@example.com"


class LeakyRefusingBackend(BaseEmailBackend):
    """A mail server that refuses, quoting what it was given."""

    def send_messages(self, messages):
        raise ConnectionRefusedError(LEAKY_MAIL_ERROR)


def test_a_failing_event_stores_its_error_redacted(
    send_event, start_payment, settings, monkeypatch
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    attempt = start_payment()
    key = settings.STRIPE_SECRET_KEY

    def explode(event):
        raise RuntimeError(f"boom with {key} for jane.doe@example.com and 4242424242424242")

    monkeypatch.setitem(registry.HANDLERS, "payment_intent.payment_failed", explode)
    send_event(se.event("payment_intent.payment_failed", se.payment_intent(attempt)))

    [event] = WebhookEvent.objects.filter(type="payment_intent.payment_failed")
    assert event.status == "failed"
    assert "RuntimeError" in event.last_error
    for leaked in (key, "jane.doe@", "4242424242424242"):
        assert leaked not in event.last_error


def test_a_refused_email_stores_its_error_redacted(send_event, start_payment, settings):
    attempt = start_payment()
    settings.EMAIL_BACKEND = "tests.observability.test_error_columns_redacted.LeakyRefusingBackend"
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
    assert "ConnectionRefusedError" in row.last_error
    assert "jane.doe@" not in row.last_error
