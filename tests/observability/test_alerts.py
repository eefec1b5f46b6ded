"""Alerts: staff hear once when a condition starts and once when it ends, not every minute."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record
from observability import alerts, tasks
from payments.handlers import registry
from payments.models import ReconciliationMismatch, WebhookEvent
from payments.webhooks import processing
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def alert_mails(name_fragment: str) -> list[str]:
    return [m.subject for m in mail.outbox if name_fragment in m.subject]


def alert_entries(name: str) -> list[str]:
    return [
        entry.action
        for entry in AuditEntry.objects.filter(action__startswith="alert.").order_by("id")
        if entry.details.get("alert") == name
    ]


def later(monkeypatch, **delta):
    """The clock moved on (the condition's window has passed)."""
    moved = timezone.now() + timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)


def run_checks_three_times() -> list[dict]:
    return [tasks.check_alerts.delay().get() for _ in range(3)]


def test_the_beat_schedule_checks_alerts_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["check-alerts"]
    assert entry["task"] == "config.tasks.check_alerts" and entry["schedule"] == 60.0


def test_payment_failure_rate_fires_once_and_clears(settings, caplog):
    settings.ALERT_PAYMENT_FAILURE_MIN_PAYMENTS = 4
    settings.ALERT_PAYMENT_FAILURE_RATE = 0.5
    for action in ["payment.failed"] * 3 + ["payment.succeeded"]:
        record(action, actor_label="stripe")

    with caplog.at_level(logging.INFO):
        results = run_checks_three_times()
    assert [r["payment_failure_rate"] for r in results] == ["fired", "still firing", "still firing"]
    assert alert_mails("payment failure rate 75% (3 of 4)") == [
        "[shop alert] payment failure rate 75% (3 of 4) in the last 15 minutes"
    ]
    assert [m.to for m in mail.outbox] == [settings.STAFF_ALERT_EMAILS]
    assert any(r.getMessage().startswith("ALERT payment_failure_rate:") for r in caplog.records)
    assert alert_entries("payment_failure_rate") == ["alert.firing"]
    assert alerts.firing_states()["payment_failure_rate"] is True

    # When payments recover (3 of 8 failed), staff get one "cleared" note.
    for _ in range(4):
        record("payment.succeeded", actor_label="stripe")
    results = run_checks_three_times()
    assert [r["payment_failure_rate"] for r in results] == ["cleared", "ok", "ok"]
    assert len(alert_mails("cleared] payment_failure_rate")) == 1
    assert alert_entries("payment_failure_rate") == ["alert.firing", "alert.cleared"]
    assert alerts.firing_states()["payment_failure_rate"] is False


def test_bad_webhook_signatures_fire_once_and_clear_when_the_window_passes(
    anon, stripe_fake, settings, monkeypatch
):
    settings.ALERT_WEBHOOK_SIGNATURE_FAILURES = 3
    evt = se.event("customer.created", {"id": "cus_1"})
    for _ in range(3):
        assert se.deliver(anon, evt, secret="whsec_attacker").status_code == 400

    results = run_checks_three_times()
    assert [r["webhook_signature_failures"] for r in results] == [
        "fired",
        "still firing",
        "still firing",
    ]
    assert alert_mails("3 webhook deliveries with a bad or missing signature") != []

    later(monkeypatch, minutes=16)
    assert [r["webhook_signature_failures"] for r in run_checks_three_times()] == [
        "cleared",
        "ok",
        "ok",
    ]
    assert alert_entries("webhook_signature_failures") == ["alert.firing", "alert.cleared"]


def test_a_failed_event_fires_once_and_clears_when_replayed(
    send_event, start_payment, settings, monkeypatch
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    attempt = start_payment()
    real_handler = registry.HANDLERS["payment_intent.succeeded"]

    def broken(event):
        raise RuntimeError("bug")

    monkeypatch.setitem(registry.HANDLERS, "payment_intent.succeeded", broken)
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    event = WebhookEvent.objects.get()
    assert event.status == "failed"

    assert [r["webhook_events_failed"] for r in run_checks_three_times()] == [
        "fired",
        "still firing",
        "still firing",
    ]
    assert alert_mails("1 webhook event(s) failed") != []

    # The bug is fixed and the event replayed (admin action / replay_webhook_events --failed).
    monkeypatch.setitem(registry.HANDLERS, "payment_intent.succeeded", real_handler)
    processing.reopen(WebhookEvent.objects.filter(pk=event.pk))
    processing.process(event.pk)
    assert [r["webhook_events_failed"] for r in run_checks_three_times()] == [
        "cleared",
        "ok",
        "ok",
    ]
    assert alert_entries("webhook_events_failed") == ["alert.firing", "alert.cleared"]


def test_an_open_reconciliation_mismatch_fires_once_and_clears_when_resolved(start_payment):
    attempt = start_payment()
    mismatch = ReconciliationMismatch.objects.create(
        kind="amount",
        subject=attempt.stripe_payment_intent_id,
        order=attempt.order,
        attempt=attempt,
        local_state="2500 usd",
        stripe_state="2400 usd",
        last_seen_at=timezone.now(),
    )
    assert [r["reconciliation_mismatches"] for r in run_checks_three_times()] == [
        "fired",
        "still firing",
        "still firing",
    ]
    assert alert_mails("1 open reconciliation mismatch(es)") != []

    mismatch.resolved_at = timezone.now()
    mismatch.save(update_fields=["resolved_at"])
    assert [r["reconciliation_mismatches"] for r in run_checks_three_times()] == [
        "cleared",
        "ok",
        "ok",
    ]
    assert alert_entries("reconciliation_mismatches") == ["alert.firing", "alert.cleared"]


def test_a_dispute_fires_once_and_clears_after_the_window(send_event, start_payment, monkeypatch):
    attempt = start_payment()
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    send_event(
        se.event(
            "charge.dispute.created",
            se.dispute(attempt.stripe_payment_intent_id, amount=attempt.amount),
        )
    )
    assert [r["disputes_opened"] for r in run_checks_three_times()] == [
        "fired",
        "still firing",
        "still firing",
    ]
    assert alert_mails("1 dispute(s) opened in the last 24 hours") != []

    later(monkeypatch, hours=25)
    assert [r["disputes_opened"] for r in run_checks_three_times()] == ["cleared", "ok", "ok"]
    assert alert_entries("disputes_opened") == ["alert.firing", "alert.cleared"]


def test_nothing_is_sent_while_all_is_well():
    assert set(tasks.check_alerts.delay().get().values()) == {"ok"}
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action__startswith="alert.").exists()
