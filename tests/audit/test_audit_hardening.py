"""The audit trail holds against raw SQL, records refusals in the admin, and survives floods."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import rejections
from audit.models import AuditEntry
from audit.services import record
from payments.models import Refund, WebhookEvent
from tests import stripe_events as se
from tests.staff import refund_url, submit_refund

pytestmark = pytest.mark.django_db

UNHANDLED = se.event("customer.created", {"id": "cus_1", "object": "customer"})


# --- the database refuses to change the trail --------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET action = 'tampered' WHERE id = %s",
        "UPDATE audit_auditentry SET outcome = 'success'",
        "DELETE FROM audit_auditentry WHERE id = %s",
        "DELETE FROM audit_auditentry",
    ],
)
def test_raw_sql_cannot_change_or_delete_entries(statement):
    entry = record("refund.request", actor_label="staff", outcome="refused", details={"a": 1})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk] if "%s" in statement else [])
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.outcome) == ("refund.request", "refused")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_still_empty_the_table_between_tests():
    # pytest-django empties every table with TRUNCATE after this test; a trigger refusing
    # that would fail the teardown (and every transactional test after it).
    record("test.action", actor_label="system")
    assert AuditEntry.objects.count() == 1


# --- refusals in the admin are audited as API refusals are --------------------------------


def _refused_entries(order):
    return AuditEntry.objects.filter(action="refund.request", order_id=order.pk, outcome="refused")


def test_admin_over_refund_is_audited_as_refused(staff_client, paid_order, stripe_fake):
    client = staff_client("view_order", "refund_order")
    response = client.post(
        refund_url(paid_order),
        {"amount": "68.01", "reason": "x", "request_id": str(uuid.uuid4()), "confirmed": "True"},
    )
    assert b"can be refunded" in response.content
    [entry] = _refused_entries(paid_order)
    assert entry.actor == client.user
    assert (entry.amount, entry.currency) == (6801, "usd")
    assert entry.details["code"] == "amount_exceeds_refundable"
    assert stripe_fake.sent("POST", "/v1/refunds") == []


def test_admin_refund_of_a_disputed_order_is_audited_as_refused(
    staff_client,
    paid_order,
    send_event,
    stripe_fake,
):
    pi = paid_order.payment_attempts.get().stripe_payment_intent_id
    send_event(se.event("charge.dispute.created", se.dispute(pi, amount=6800)))
    paid_order.refresh_from_db()
    assert paid_order.status == "disputed"
    client = staff_client("view_order", "refund_order")
    client.post(
        refund_url(paid_order),
        {"amount": "1.00", "reason": "x", "request_id": str(uuid.uuid4()), "confirmed": "True"},
        follow=True,
    )
    [entry] = _refused_entries(paid_order)
    assert entry.actor == client.user
    assert entry.details["code"] == "not_refundable"
    assert not Refund.objects.exists()


def test_admin_duplicate_submission_is_audited_as_refused(
    staff_client,
    paid_order,
    stripe_fake,
):
    client = staff_client("view_order", "refund_order")
    request_id = str(uuid.uuid4())
    submit_refund(client, paid_order, "10.00", request_id)
    client.post(
        refund_url(paid_order),
        {"amount": "10.00", "reason": "x", "request_id": request_id, "confirmed": "True"},
        follow=True,
    )
    [entry] = _refused_entries(paid_order)
    assert entry.actor == client.user
    assert entry.details["code"] == "duplicate_submission"
    assert Refund.objects.count() == 1


# --- floods of refused deliveries ------------------------------------------------------


def test_a_flood_of_forged_deliveries_writes_two_rows_that_carry_the_count(
    anon, stripe_fake, settings
):
    settings.AUDIT_REJECTION_WINDOW_SECONDS = 3600  # the whole flood in one window
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook": {"ip": "1000/m"}}
    forged = f"t={int(time.time())},v1={'0' * 64}"
    codes = {se.deliver(anon, UNHANDLED, signature=forged).status_code for _ in range(600)}
    assert codes == {400}
    assert not WebhookEvent.objects.exists()

    rows = AuditEntry.objects.filter(action="webhook.rejected")
    [first] = rows
    assert first.outcome == "refused"
    assert first.ip_address == "127.0.0.1"
    assert first.details["code"] == "invalid_signature"
    assert first.details["count"] == 1

    # The window ends: the beat job writes one summary row with the rest.
    later = timezone.now() + timedelta(hours=1, minutes=1)
    assert rejections.summarize_ended_windows(now=later) == 1
    assert rejections.summarize_ended_windows(now=later) == 0  # once only
    rows = AuditEntry.objects.filter(action="webhook.rejected")
    assert rows.count() == 2
    assert sum(row.details["count"] for row in rows) == 600
    summary = rows.get(details__summary=True)
    assert summary.details["total"] == 600
    assert summary.ip_address == "127.0.0.1"


def test_a_new_window_summarises_the_previous_one_without_the_beat_job(
    anon, stripe_fake, settings, monkeypatch
):
    settings.AUDIT_REJECTION_WINDOW_SECONDS = 60
    # Early in a window, so that 61 s later is the next window, not the one after it.
    now = timezone.now().replace(second=1, microsecond=0)
    monkeypatch.setattr(rejections.timezone, "now", lambda: now)
    for _ in range(5):
        se.deliver(anon, UNHANDLED, signature="t=1,v1=forged")
    monkeypatch.setattr(rejections.timezone, "now", lambda: now + timedelta(seconds=61))
    se.deliver(anon, UNHANDLED, signature="t=1,v1=forged")
    rows = AuditEntry.objects.filter(action="webhook.rejected")
    assert rows.count() == 3  # first of window 1, its summary (4 more), first of window 2
    assert sum(row.details["count"] for row in rows) == 6


def test_different_addresses_and_codes_are_kept_apart(anon, stripe_fake, settings):
    settings.AUDIT_REJECTION_WINDOW_SECONDS = 3600
    for address in ("198.51.100.1", "198.51.100.2"):
        for _ in range(3):
            se.deliver(anon, UNHANDLED, signature="t=1,v1=x", REMOTE_ADDR=address)
    se.deliver(anon, UNHANDLED, signature="", REMOTE_ADDR="198.51.100.1")
    rows = AuditEntry.objects.filter(action="webhook.rejected")
    keys = sorted((r.details["client_address"], r.details["code"]) for r in rows)
    assert keys == [
        ("198.51.100.1", "invalid_signature"),
        ("198.51.100.1", "missing_signature"),
        ("198.51.100.2", "invalid_signature"),
    ]


def test_the_signature_alert_counts_aggregated_deliveries(anon, stripe_fake, settings):
    from payments import monitoring

    settings.AUDIT_REJECTION_WINDOW_SECONDS = 1
    settings.ALERT_WEBHOOK_SIGNATURE_FAILURES = 10
    for _ in range(12):
        se.deliver(anon, UNHANDLED, signature="t=1,v1=forged")
    rejections.summarize_ended_windows(now=timezone.now() + timedelta(seconds=5))
    reading = monitoring.webhook_signature_failures()
    assert reading.firing, reading.summary
    assert reading.details["rejected"] == 12
