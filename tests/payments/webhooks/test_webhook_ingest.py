"""The webhook endpoint: verified events are stored once; nothing else is."""

import json
import logging
import time
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from audit import rejections
from audit.models import AuditEntry
from payments.models import WebhookEvent
from tests.conftest import error_code
from tests.stripe_events import deliver, event

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)

UNHANDLED = event(
    "customer.created", {"id": "cus_1", "object": "customer", "email": "secret-shopper@example.com"}
)


def _rejected(response, code):
    assert response.status_code == 400
    assert error_code(response) == code
    assert not WebhookEvent.objects.exists()
    entry = AuditEntry.objects.get(action="webhook.rejected")
    assert entry.outcome == "refused" and entry.details["code"] == code
    assert entry.details["count"] == 1


def test_a_verified_event_is_stored_and_acknowledged(send_event):
    response = send_event(UNHANDLED)
    assert response.status_code == 200
    assert response.json() == {"received": True}
    row = WebhookEvent.objects.get()
    assert (row.stripe_event_id, row.type, row.livemode) == (
        UNHANDLED["id"],
        "customer.created",
        False,
    )
    assert row.api_version == "2026-08-26.dahlia"
    assert row.payload == UNHANDLED
    # Unknown types are kept, visible, and marked ignored by the insert (never processed).
    assert row.status == "ignored" and row.handled_at is not None and row.attempts == 0


def test_a_duplicate_delivery_is_acknowledged_and_stored_once(send_event):
    assert send_event(UNHANDLED).status_code == 200
    assert send_event(UNHANDLED).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().status == "ignored"


def test_forged_signature(anon, stripe_fake):
    header = f"t={int(time.time())},v1={'0' * 64}"
    _rejected(deliver(anon, UNHANDLED, signature=header), "invalid_signature")


def test_wrong_secret(anon, stripe_fake):
    _rejected(deliver(anon, UNHANDLED, secret="whsec_someone_else"), "invalid_signature")


def test_stale_timestamp(anon, stripe_fake):
    _rejected(deliver(anon, UNHANDLED, timestamp=int(time.time()) - 301), "invalid_signature")


def test_missing_header(anon, stripe_fake):
    _rejected(deliver(anon, UNHANDLED, signature=""), "missing_signature")


def test_old_secret_is_accepted_during_a_rotation(send_event, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new_secret", "whsec_test_secret"]
    assert send_event(UNHANDLED, secret="whsec_test_secret").status_code == 200
    assert (
        send_event(
            event("customer.created", {"id": "cus_2"}), secret="whsec_new_secret"
        ).status_code
        == 200
    )
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize(
    "payload",
    [
        b"this is not json",
        b"[1, 2, 3]",
        json.dumps(
            {"id": "evt_1", "object": "charge", "type": "x", "data": {"object": {}}}
        ).encode(),
        json.dumps({"id": "nope", "object": "event", "type": "x", "data": {"object": {}}}).encode(),
        json.dumps({"id": "evt_1", "object": "event", "type": "x", "data": []}).encode(),
    ],
)
def test_signed_bodies_that_are_not_events(anon, stripe_fake, payload):
    _rejected(deliver(anon, payload), "invalid_payload")


def test_a_2_mb_body_is_413_and_not_stored(anon, stripe_fake):
    big = event("customer.created", {"id": "cus_big", "note": "x" * (2 * 1024 * 1024)})
    response = deliver(anon, big)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not WebhookEvent.objects.exists()


def test_rejections_log_a_line_without_the_payload(anon, stripe_fake, caplog):
    with caplog.at_level(logging.DEBUG):
        deliver(anon, UNHANDLED, secret="whsec_wrong")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook rejected: invalid_signature" in text
    assert "secret-shopper" not in text and "whsec" not in text


def test_allow_list_refuses_other_senders(anon, stripe_fake, settings):
    settings.WEBHOOK_ALLOWED_IPS = ["10.0.0.0/8"]
    response = deliver(anon, UNHANDLED)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    settings.WEBHOOK_ALLOWED_IPS = ["127.0.0.1"]
    assert deliver(anon, UNHANDLED).status_code == 200


def test_refused_deliveries_from_one_address_are_rate_limited_without_more_audit_rows(
    anon, stripe_fake, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook": {"ip": "2/m"}}
    codes = [deliver(anon, UNHANDLED, signature="t=1,v1=forged").status_code for _ in range(4)]
    assert codes == [400, 400, 429, 429]
    # One row for the address's window so far; the refused two are counted (audit.rejections).
    assert AuditEntry.objects.filter(action="webhook.rejected").count() == 1
    assert rejections.total("webhook.rejected", ["invalid_signature"], timezone.now() - HOUR) == 2
    assert not WebhookEvent.objects.exists()

    # Stripe's real events are never throttled: only a signed body can be a new event.
    fresh = [event("customer.created", {"id": f"cus_{i}"}) for i in range(3)]
    assert [deliver(anon, e).status_code for e in fresh] == [200, 200, 200]
    assert WebhookEvent.objects.count() == 3


def test_a_flood_of_repeated_deliveries_is_rate_limited(anon, stripe_fake, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook": {"ip": "2/m"}}
    codes = [deliver(anon, UNHANDLED).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # the first stores it; two repeats; then 429
    response = deliver(anon, UNHANDLED)
    assert response.status_code == 429
    assert error_code(response) == "rate_limited" and int(response["Retry-After"]) >= 1
    assert WebhookEvent.objects.get().stripe_event_id == UNHANDLED["id"]


def test_events_keep_flowing_with_payments_switched_off(send_event, settings):
    settings.PAYMENTS_ENABLED = False
    assert send_event(UNHANDLED).status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"


def test_the_webhook_needs_post_and_no_csrf(anon, stripe_fake):
    assert anon.get("/api/v1/webhooks/stripe/").status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delivery_on_a_connection_postgresql_dropped_is_stored_on_a_new_one(anon, stripe_fake):
    from django.db import connection

    assert deliver(anon, event("customer.created", {"id": "cus_a"})).status_code == 200
    with connection.cursor() as cursor:  # the worker's persistent connection
        cursor.execute("SELECT pg_backend_pid()")
        dropped = cursor.fetchone()[0]
    with psycopg.connect(_dsn(connection), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dropped])

    response = deliver(anon, event("customer.created", {"id": "cus_b"}))
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != dropped


def _dsn(connection) -> str:
    params = connection.get_connection_params()
    return " ".join(
        f"{key}={params[key]}" for key in ("host", "port", "user", "dbname") if params.get(key)
    )
