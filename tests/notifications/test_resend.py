"""Resending an outbox e-mail: it goes out once, whoever else is on it."""

import threading

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services as outbox
from notifications.locks import claim_unsent_email
from notifications.models import OutboxEmail
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db


def stored(**fields):
    return OutboxEmail.objects.create(
        kind="receipt",
        subject="Receipt for order ORD-TEST0001",
        body="Thank you.",
        recipients=["shopper@example.com"],
        **fields,
    )


def test_a_failed_email_past_its_retries_is_sent_once_more(django_capture_on_commit_callbacks):
    row = stored(attempts=outbox.MAX_SEND_ATTEMPTS, last_error="ConnectionRefusedError: down")
    assert outbox.send_unsent(grace_seconds=0) == 0  # the sweep has given up on it
    with django_capture_on_commit_callbacks(execute=True):
        outcome, before = outbox.requeue(row.pk)
    assert outcome == outbox.Resend.QUEUED
    assert before["attempts"] == outbox.MAX_SEND_ATTEMPTS
    assert [m.subject for m in mail.outbox] == ["Receipt for order ORD-TEST0001"]
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


def test_a_sent_email_is_resent_only_when_asked_for(django_capture_on_commit_callbacks):
    row = stored(sent_at=timezone.now(), attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.requeue(row.pk)[0] == outbox.Resend.ALREADY_SENT
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.requeue(row.pk, include_sent=True)[0] == outbox.Resend.QUEUED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id  # the same message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_resend_never_runs_beside_a_send_of_the_same_email():
    row = stored(attempts=1, last_error="down")
    holding, release = threading.Event(), threading.Event()

    def worker_sending():
        with transaction.atomic():
            assert claim_unsent_email(row.pk) is not None
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=worker_sending)
    worker.start()
    try:
        assert holding.wait(10)
        assert outbox.requeue(row.pk) == (outbox.Resend.BUSY, {})
    finally:
        release.set()
        worker.join(10)
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_resending_at_once_send_it_once():
    row = stored(attempts=outbox.MAX_SEND_ATTEMPTS, last_error="down")
    outcomes = run_in_threads([lambda: outbox.requeue(row.pk)[0] for _ in range(4)])
    assert outcomes.count(outbox.Resend.QUEUED) >= 1
    assert set(outcomes) <= {outbox.Resend.QUEUED, outbox.Resend.BUSY, outbox.Resend.ALREADY_SENT}
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.sent_at is not None
