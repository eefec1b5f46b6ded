import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User
from catalog.models import Product

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_catalog_and_users_and_can_run_again(capsys, anon):
    call_command("seed_demo", "--password", "demo-pass-123")
    call_command("seed_demo", "--password", "demo-pass-456")
    out = capsys.readouterr().out

    assert "shopper@example.com / demo-pass-456" in out
    assert Product.objects.filter(currency="jpy").exists()
    assert User.objects.filter(email__in=["shopper@example.com", "staff@example.com"]).count() == 2
    staff = authenticate(username="staff@example.com", password="demo-pass-456")
    assert staff.is_staff and staff.has_perm("orders.refund_order")
    assert not staff.is_superuser
    count = Product.objects.count()
    assert anon.get("/api/v1/products/").json()["count"] == count


def test_the_demo_staff_user_is_in_both_staff_groups_and_holds_no_mirror_permission(client):
    call_command("seed_demo", "--password", "demo-pass-123")
    staff = User.objects.get(email="staff@example.com")
    assert sorted(staff.groups.values_list("name", flat=True)) == ["Finance", "Support"]
    assert not staff.user_permissions.exists()
    assert not any(p.startswith("djstripe.") for p in staff.get_all_permissions())
    client.force_login(staff)
    assert client.get("/admin/payments/reconciliationmismatch/").status_code == 200
    assert client.get("/admin/djstripe/product/").status_code == 403
