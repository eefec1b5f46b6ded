import pytest

from audit.models import AuditEntry, AuditEntryIsAppendOnly
from audit.services import record

pytestmark = pytest.mark.django_db


def test_order_creation_records_who_what_and_the_request(api, user, product):
    response = api.post_idem(
        "/api/v1/orders/",
        {"lines": [{"product_id": product.pk, "quantity": 2}]},
        HTTP_X_REQUEST_ID="req-123",
        HTTP_USER_AGENT="pytest-shopper",
    )
    assert response["X-Request-ID"] == "req-123"
    entry = AuditEntry.objects.get(action="order.created")
    assert entry.actor == user
    assert entry.actor_label == user.email
    assert entry.order_id == response.json()["id"]
    assert (entry.amount, entry.currency) == (2 * product.unit_amount, "usd")
    assert entry.request_id == "req-123"
    assert entry.ip_address == "127.0.0.1"
    assert entry.user_agent == "pytest-shopper"
    assert entry.object_type == "orders.Order"


def test_request_id_is_created_when_missing_or_unsafe(anon):
    made = anon.get("/api/v1/health/")
    assert len(made["X-Request-ID"]) == 32
    unsafe = anon.get("/api/v1/health/", HTTP_X_REQUEST_ID="bad id\r\nX-Evil: 1")
    assert unsafe["X-Request-ID"] != "bad id\r\nX-Evil: 1"
    assert len(unsafe["X-Request-ID"]) == 32


def test_entries_cannot_be_changed_or_deleted_through_the_orm():
    entry = record("test.action", actor_label="system", details={"a": 1})
    entry.action = "tampered"
    with pytest.raises(AuditEntryIsAppendOnly):
        entry.save()
    with pytest.raises(AuditEntryIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditEntryIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(AuditEntryIsAppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.action"
