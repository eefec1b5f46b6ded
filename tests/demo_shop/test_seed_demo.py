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
