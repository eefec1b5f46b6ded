"""Pages where nothing can be edited offer "Close", not "Save"; dj-stripe's mirror is in
no menu and its pages are for superusers only; the index lists one Disputes, one Refunds."""

import re

import pytest
from django.utils import timezone
from djstripe import models as djstripe_models

from audit.models import AuditEntry
from payments.models import Dispute, PaymentDecline, ReconciliationMismatch, Refund, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_each(paid_order):
    attempt = paid_order.payment_attempts.get()
    refund = Refund.objects.create(
        attempt=attempt, order=paid_order, amount=100, currency="usd", status="succeeded"
    )
    dispute = Dispute.objects.create(
        attempt=attempt,
        order=paid_order,
        stripe_dispute_id="dp_ro",
        amount=100,
        currency="usd",
        status="needs_response",
    )
    decline = PaymentDecline.objects.create(
        stripe_event_id="evt_ro_decline", attempt=attempt, declined_at=timezone.now()
    )
    mismatch = ReconciliationMismatch.objects.create(
        kind="amount", subject="pi_ro", order=paid_order, last_seen_at=timezone.now()
    )
    return {
        "orders/order": paid_order,
        "payments/paymentattempt": attempt,
        "payments/refund": refund,
        "payments/dispute": dispute,
        "payments/paymentdecline": decline,
        "payments/reconciliationmismatch": mismatch,
        "payments/webhookevent": WebhookEvent.objects.first(),
        "audit/auditentry": AuditEntry.objects.first(),
    }


def test_read_only_pages_offer_close_not_save(admin_client, one_of_each):
    # A superuser holds every permission: if anybody were offered "Save", it would be them.
    for path, row in one_of_each.items():
        html = admin_client.get(f"/admin/{path}/{row.pk}/change/").content.decode()
        assert 'name="_save"' not in html, path
        assert 'name="_continue"' not in html, path
        assert 'class="closelink"' in html, path


def test_the_order_page_for_staff_who_may_change_orders_has_no_save(staff_client, paid_order):
    client = staff_client("orders.view_order", "orders.change_order")
    html = client.get(f"/admin/orders/order/{paid_order.pk}/change/").content.decode()
    assert 'name="_save"' not in html and 'class="closelink"' in html


def test_the_audit_log_stays_append_only_through_the_admin(admin_client, one_of_each):
    entry = one_of_each["audit/auditentry"]
    url = f"/admin/audit/auditentry/{entry.pk}/change/"
    assert admin_client.post(url, {"action": "changed"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.action != "changed"


def index_entries(client):
    html = client.get("/admin/").content.decode()
    return re.findall(r'<th scope="row"[^>]*>\s*<a href="([^"]+)"[^>]*>([^<]+)</a>', html)


def test_the_index_lists_one_disputes_and_one_refunds_and_no_mirror(admin_client):
    entries = index_entries(admin_client)
    names = [name for _, name in entries]
    assert "Orders" in names and "Webhook events" in names
    assert names.count("Disputes") == 1 and names.count("Refunds") == 1
    assert not [href for href, _ in entries if "/djstripe/" in href]
    sidebar = admin_client.get("/admin/orders/order/").content.decode()
    assert "/admin/djstripe/" not in sidebar


def test_the_mirror_pages_are_for_superusers_and_read_only(admin_client, staff_client):
    customer = djstripe_models.Customer.objects.create(id="cus_ro", livemode=False)
    page = admin_client.get(f"/admin/djstripe/customer/{customer.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.get("/admin/djstripe/customer/add/").status_code == 403
    staff = staff_client("djstripe.view_customer", "djstripe.change_customer")
    assert staff.get("/admin/djstripe/customer/").status_code == 403
    assert staff.get(f"/admin/djstripe/customer/{customer.pk}/change/").status_code == 403
