"""CSV exports of orders, refunds and disputes, as finance staff download them."""

import csv
import io
from datetime import UTC, datetime

import pytest

from audit.models import AuditEntry
from orders.models import Order
from payments.models import Dispute, PaymentAttempt, Refund
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


def rows_of(response):
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def order(total, currency, *, status="pending_payment", created=None, refunded=0, **fields):
    made = OrderFactory(total=total, subtotal=total, currency=currency, **fields)
    changes = {"status": status, "amount_refunded": refunded}
    if created:
        changes["created_at"] = created
    Order.objects.filter(pk=made.pk).update(**changes)
    made.refresh_from_db()
    return made


@pytest.fixture
def orders():
    return {
        "usd": order(6100, "usd", status="paid", created=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),
        "jpy": order(500, "jpy", created=datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC)),
        "kwd": order(
            1230, "kwd", status="refunded", refunded=1230, created=datetime(2026, 11, 5, tzinfo=UTC)
        ),
    }


class TestOrderExport:
    def test_the_filtered_list_exports_one_row_per_order_with_exact_cells(
        self, staff_client, orders
    ):
        client = staff_client("view_order", "export_order")
        listing = client.get(f"{ORDERS}?status__exact=paid")
        assert b'href="/admin/orders/order/export/?status__exact=paid"' in listing.content

        [row] = rows_of(client.get(f"{ORDERS}export/?status__exact=paid"))
        paid = orders["usd"]
        assert row == {
            "number": paid.number,
            "created_at": "2026-11-02T09:30:00Z",
            "updated_at": row["updated_at"],
            "status": "paid",
            "currency": "usd",
            "total": "61.00",
            "total_minor": "6100",
            "refunded": "0.00",
            "refunded_minor": "0",
            "email": paid.email,
            "customer_id": str(paid.user_id),
        }
        assert row["updated_at"].endswith("Z")

    def test_zero_and_three_decimal_currencies_and_the_whole_list(self, staff_client, orders):
        client = staff_client("view_order", "export_order")
        rows = {r["currency"]: r for r in rows_of(client.get(f"{ORDERS}export/"))}
        assert set(rows) == {"usd", "jpy", "kwd"}
        assert (rows["jpy"]["total"], rows["jpy"]["total_minor"]) == ("500", "500")
        assert (rows["kwd"]["total"], rows["kwd"]["refunded"]) == ("1.230", "1.230")
        assert rows["kwd"]["refunded_minor"] == "1230"
        # newest first, as the list shows them
        assert [r["currency"] for r in rows_of(client.get(f"{ORDERS}export/"))] == [
            "kwd",
            "jpy",
            "usd",
        ]

    def test_search_and_date_range_are_honoured(self, staff_client, orders):
        client = staff_client("view_order", "export_order")
        found = rows_of(client.get(f"{ORDERS}export/?q={orders['jpy'].number}"))
        assert [r["number"] for r in found] == [orders["jpy"].number]
        in_range = rows_of(
            client.get(f"{ORDERS}export/?created_from=2026-11-03&created_to=2026-11-03")
        )
        assert [r["number"] for r in in_range] == [orders["jpy"].number]  # 23:59:59 is in

    def test_selected_rows_only_through_the_action(self, staff_client, orders):
        client = staff_client("view_order", "export_order")
        chosen = [orders["usd"].pk, orders["kwd"].pk]
        response = client.post(ORDERS, {"action": "export_csv", "_selected_action": chosen})
        assert {r["number"] for r in rows_of(response)} == {
            orders["usd"].number,
            orders["kwd"].number,
        }
        entry = AuditEntry.objects.get(action="order.exported")
        assert (entry.actor, entry.details["scope"], entry.details["selected"]) == (
            client.user,
            "selected",
            2,
        )

    def test_cells_that_a_spreadsheet_would_run_are_defused(self, staff_client):
        client = staff_client("view_order", "export_order")
        for hostile in ("=HYPERLINK(1)@x.io", "+1@x.io", "-2@x.io", "@SUM(A1)@x.io"):
            order(1000, "usd", email=hostile)
        emails = sorted(r["email"] for r in rows_of(client.get(f"{ORDERS}export/")))
        assert emails == ["'+1@x.io", "'-2@x.io", "'=HYPERLINK(1)@x.io", "'@SUM(A1)@x.io"]

    def test_staff_without_the_permission_get_403_and_no_link(self, staff_client, orders):
        client = staff_client("view_order")
        assert client.get(f"{ORDERS}export/").status_code == 403
        listing = client.get(ORDERS).content.decode()
        assert "Export CSV" not in listing and 'value="export_csv"' not in listing
        refused = client.post(
            ORDERS, {"action": "export_csv", "_selected_action": [orders["usd"].pk]}
        )
        assert not getattr(refused, "streaming", False)
        assert not AuditEntry.objects.filter(action="order.exported").exists()

    def test_a_bad_date_is_a_400_not_a_file(self, staff_client, orders):
        client = staff_client("view_order", "export_order")
        response = client.get(f"{ORDERS}export/?created_from=yesterday")
        assert response.status_code == 400
        assert b"YYYY-MM-DD" in response.content


class TestRefundAndDisputeExports:
    @pytest.fixture
    def money(self, orders):
        paid = orders["kwd"]
        attempt = PaymentAttempt.objects.create(
            order=paid, number=1, kind="payment_intent", amount=1230, currency="kwd"
        )
        refund = Refund.objects.create(
            attempt=attempt,
            order=paid,
            amount=1230,
            currency="kwd",
            reason="=cmd|'/c calc'!A1",
            stripe_refund_id="re_1",
        )
        dispute = Dispute.objects.create(
            attempt=attempt,
            order=paid,
            stripe_dispute_id="dp_1",
            amount=1230,
            currency="kwd",
            status="needs_response",
            reason="fraudulent",
        )
        Refund.objects.filter(pk=refund.pk).update(created_at=datetime(2026, 11, 6, tzinfo=UTC))
        Dispute.objects.filter(pk=dispute.pk).update(created_at=datetime(2026, 11, 7, tzinfo=UTC))
        return paid

    def test_refunds(self, staff_client, money):
        client = staff_client("view_refund", "export_refund")
        [row] = rows_of(client.get("/admin/payments/refund/export/?created_from=2026-11-06"))
        assert row["stripe_refund_id"] == "re_1" and row["order_number"] == money.number
        assert (row["amount"], row["amount_minor"], row["currency"]) == ("1.230", "1230", "kwd")
        assert row["reason"] == "'=cmd|'/c calc'!A1"
        assert row["created_at"] == "2026-11-06T00:00:00Z" and row["email"] == money.email
        assert rows_of(client.get("/admin/payments/refund/export/?created_to=2026-11-05")) == []

    def test_disputes(self, staff_client, money):
        client = staff_client("view_dispute", "export_dispute")
        [row] = rows_of(client.get("/admin/payments/dispute/export/?status__exact=needs_response"))
        assert (row["stripe_dispute_id"], row["amount"], row["reason"]) == (
            "dp_1",
            "1.230",
            "fraudulent",
        )
        assert row["created_at"] == "2026-11-07T00:00:00Z" and row["evidence_due_by"] == ""

    def test_each_export_needs_its_own_permission(self, staff_client, money):
        client = staff_client("view_refund", "view_dispute", "export_order")
        assert client.get("/admin/payments/refund/export/").status_code == 403
        assert client.get("/admin/payments/dispute/export/").status_code == 403
