"""The Support and Finance groups: made by migrate, kept by code, and each opens exactly
the admin pages it should."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.staff_groups import FINANCE, GROUPS, SUPPORT, ensure_staff_groups, permissions
from payments.models import ReconciliationMismatch, WebhookEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def member_of(client, *names):
    user = UserFactory(is_staff=True)
    user.groups.set(Group.objects.filter(name__in=names))
    client.force_login(user)
    return client


def granted(name):
    group = Group.objects.get(name=name)
    return {(p.content_type.app_label, p.codename) for p in group.permissions.all()}


def test_migrate_made_both_groups_with_their_own_apps_permissions():
    # The test database was migrated: the post_migrate receiver ran.
    assert granted(SUPPORT) == set(GROUPS[SUPPORT])
    assert granted(FINANCE) == set(GROUPS[FINANCE])
    assert not any(app == "djstripe" for app, _ in granted(FINANCE))
    assert granted(SUPPORT) < granted(FINANCE)


def test_setting_up_again_changes_nothing_and_takes_back_extras(capsys):
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(*permissions([("orders", "refund_order")]))
    call_command("setup_staff_groups")
    ensure_staff_groups()
    assert Group.objects.filter(name__in=[SUPPORT, FINANCE]).count() == 2
    assert ("orders", "refund_order") not in granted(SUPPORT)
    assert "Finance: 23 permissions" in capsys.readouterr().out


def test_a_missing_permission_is_named():
    with pytest.raises(LookupError, match=r"payments\.no_such_thing"):
        permissions([("payments", "no_such_thing"), ("orders", "view_order")])


@pytest.fixture
def rows(paid_order):
    event = WebhookEvent.objects.create(
        stripe_event_id="evt_groups", type="charge.refunded", payload={}, status="failed"
    )
    from django.utils import timezone

    mismatch = ReconciliationMismatch.objects.create(
        kind="amount", subject="pi_groups", order=paid_order, last_seen_at=timezone.now()
    )
    return {"order": paid_order, "event": event, "mismatch": mismatch}


BOTH = 200, 200  # (Support, Finance)
FINANCE_ONLY = 403, 200
NEITHER = 403, 403


def pages(rows):
    order, mismatch = rows["order"].pk, rows["mismatch"].pk
    return {
        "/admin/": BOTH,
        "/admin/orders/order/": BOTH,
        f"/admin/orders/order/{order}/change/": BOTH,
        "/admin/accounts/user/": BOTH,
        f"/admin/accounts/user/{rows['order'].user_id}/change/": BOTH,
        "/admin/payments/paymentattempt/": BOTH,
        "/admin/payments/refund/": BOTH,
        "/admin/payments/dispute/": BOTH,
        "/admin/payments/webhookevent/": BOTH,
        f"/admin/payments/webhookevent/{rows['event'].pk}/change/": BOTH,
        "/admin/payments/paymentdecline/": BOTH,
        "/admin/audit/auditentry/": BOTH,
        "/admin/catalog/product/": BOTH,
        "/admin/backoffice/customer/": BOTH,
        f"/admin/backoffice/customer/{rows['order'].user_id}/change/": BOTH,
        "/admin/notifications/outboxemail/": BOTH,
        "/admin/orders/order/export/": FINANCE_ONLY,
        "/admin/payments/refund/export/": FINANCE_ONLY,
        "/admin/payments/dispute/export/": FINANCE_ONLY,
        f"/admin/orders/order/{order}/refund/": FINANCE_ONLY,
        "/admin/payments/reconciliationmismatch/": FINANCE_ONLY,
        f"/admin/payments/reconciliationmismatch/{mismatch}/change/": FINANCE_ONLY,
        f"/admin/payments/reconciliationmismatch/{mismatch}/acknowledge/": FINANCE_ONLY,
        "/admin/catalog/product/add/": NEITHER,
        "/admin/accounts/user/add/": NEITHER,
        "/admin/auth/group/": NEITHER,
        "/admin/djstripe/dispute/": NEITHER,
        "/admin/djstripe/product/": NEITHER,
    }


@pytest.mark.parametrize("group", [SUPPORT, FINANCE])
def test_each_group_opens_exactly_its_pages(client, rows, group):
    client = member_of(client, group)
    column = 0 if group == SUPPORT else 1
    opened = {path: client.get(path).status_code for path in pages(rows)}
    assert opened == {path: want[column] for path, want in pages(rows).items()}


def test_support_fulfils_and_cancels_but_cannot_refund_replay_or_fix(client, rows, stripe_fake):
    client = member_of(client, SUPPORT)
    order, event = rows["order"], rows["event"]
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Mark fulfilled" in page and f"/admin/orders/order/{order.pk}/refund/" not in page
    events = client.get("/admin/payments/webhookevent/").content.decode()
    assert 'value="replay"' not in events
    fix = f"/admin/payments/reconciliationmismatch/{rows['mismatch'].pk}/fix/"
    assert client.post(fix).status_code == 403
    assert client.post(f"/admin/orders/order/{order.pk}/fulfil/").status_code == 302
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert event.status == "failed"


def test_finance_refunds_replays_and_fixes(client, rows):
    client = member_of(client, FINANCE)
    order = rows["order"]
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert f"/admin/orders/order/{order.pk}/refund/" in page
    events = client.get("/admin/payments/webhookevent/").content.decode()
    assert 'value="replay"' in events
    mismatch = client.get(
        f"/admin/payments/reconciliationmismatch/{rows['mismatch'].pk}/change/"
    ).content.decode()
    assert "Mark resolved" in mismatch
