"""Fixtures of the reconciliation tests (helpers in reconciliation_steps.py)."""

import pytest
from django.core import mail

from tests import stripe_events as se
from tests.payments.reconciliation.reconciliation_steps import (
    succeed_at_stripe,
    use_commit_capture,
)


@pytest.fixture(autouse=True)
def _commits_run(django_capture_on_commit_callbacks):
    """E-mails go out after commit; run those callbacks as a real commit would."""
    use_commit_capture(django_capture_on_commit_callbacks)


@pytest.fixture
def paid(send_event, start_payment, stripe_fake):
    """An order paid through a delivered webhook, Stripe agreeing."""
    attempt = start_payment()
    succeed_at_stripe(stripe_fake, attempt)
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    attempt.refresh_from_db()
    mail.outbox.clear()
    return attempt
