"""Date ranges on the lists, and the order list's bulk actions, as staff use them."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from orders.models import Order
from payments.models import PaymentAttempt
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


def numbers(page) -> set[str]:
    assert page.status_code == 200, page.status_code
    return set(re.findall(r"ORD-[0-9A-Z]{8}", page.content.decode()))


def made_on(day, hour=12, **fields):
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=datetime(*day, hour, tzinfo=UTC))
    return order


class TestDateRanges:
    def test_from_and_to_are_whole_utc_days(self, staff_client):
        first = made_on((2026, 11, 1), hour=0)
        second = made_on((2026, 11, 2), hour=23)
        third = made_on((2026, 11, 3), hour=0)
        client = staff_client("view_order")
        both = numbers(client.get(f"{ORDERS}?created_from=2026-11-01&created_to=2026-11-02"))
        assert both == {first.number, second.number}
        assert numbers(client.get(f"{ORDERS}?created_from=2026-11-03")) == {third.number}
        assert numbers(client.get(f"{ORDERS}?created_to=2026-11-01")) == {first.number}

    def test_the_form_keeps_the_other_filters(self, staff_client):
        made_on((2026, 11, 1))
        client = staff_client("view_order")
        page = client.get(f"{ORDERS}?status__exact=paid&q=x&created_from=2026-11-01")
        text = page.content.decode()
        assert 'id="date-range-filter"' in text
        assert '<input type="hidden" name="status__exact" value="paid">' in text
        assert '<input type="hidden" name="q" value="x">' in text
        assert 'name="created_from" value="2026-11-01"' in text

    def test_the_range_works_beside_the_lists_counts(self, staff_client):
        made = made_on((2026, 11, 1))
        client = staff_client("view_order")
        page = client.get(f"{ORDERS}?_facets=True&created_from=2026-11-01")
        assert numbers(page) == {made.number}

    def test_a_bad_date_is_refused_like_any_bad_filter(self, staff_client):
        client = staff_client("view_order")
        response = client.get(f"{ORDERS}?created_to=30/11/2026")
        assert response.status_code == 302 and response["Location"].endswith("?e=1")

    @pytest.mark.postgres
    def test_the_range_reads_the_created_at_index(self, staff_client):
        made_on((2026, 11, 1))
        client = staff_client("view_order")
        with CaptureQueriesContext(connection) as queries:
            client.get(f"{ORDERS}?created_from=2026-11-01&created_to=2026-11-02")
        [page_query] = [q["sql"] for q in queries if 'FROM "orders_order"' in q["sql"]][-1:]
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + page_query)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
        assert "orders_order_created_at" in plan, plan

    def test_attempts_refunds_and_disputes_have_the_range_too(self, staff_client):
        old, new = made_on((2026, 10, 1)), made_on((2026, 11, 20))
        for order, day in ((old, 1), (new, 20)):
            attempt = PaymentAttempt.objects.create(
                order=order, number=1, kind="payment_intent", amount=100, currency="usd"
            )
            PaymentAttempt.objects.filter(pk=attempt.pk).update(
                created_at=datetime(2026, 11 if day == 20 else 10, day, tzinfo=UTC)
            )
        client = staff_client("view_paymentattempt", "view_refund", "view_dispute")
        page = client.get("/admin/payments/paymentattempt/?created_from=2026-11-01")
        assert numbers(page) == {new.number}
        for screen in ("refund", "dispute"):
            listing = client.get(f"/admin/payments/{screen}/?created_from=2026-11-01")
            assert listing.status_code == 200 and b"date-range-filter" in listing.content


def paid(**fields):
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(status="paid")
    return order


class TestBulkActions:
    def test_mark_selected_fulfilled_does_the_paid_and_says_why_not_the_rest(self, staff_client):
        ready, also_ready, pending = paid(), paid(), OrderFactory()
        client = staff_client("view_order", "fulfil_order")
        response = client.post(
            ORDERS,
            {
                "action": "fulfil_selected",
                "_selected_action": [ready.pk, also_ready.pk, pending.pk],
            },
            follow=True,
        )
        text = response.content.decode()
        assert (
            "2 order(s) marked fulfilled. 1 skipped: Only a paid, partially refunded or "
            "disputed order can be fulfilled; this one is pending payment"
        ) in text
        statuses = dict(Order.objects.values_list("pk", "status"))
        assert statuses == {
            ready.pk: "fulfilled",
            also_ready.pk: "fulfilled",
            pending.pk: "pending_payment",
        }
        fulfilled = AuditEntry.objects.filter(action="order.fulfilled", actor=client.user)
        assert sorted(fulfilled.values_list("order_id", flat=True)) == sorted(
            [ready.pk, also_ready.pk]
        )

    def test_cancel_selected_pending_orders(self, staff_client, start_payment, stripe_fake):
        pending = start_payment().order
        settled = paid()
        client = staff_client("view_order", "change_order")
        response = client.post(
            ORDERS,
            {"action": "cancel_selected", "_selected_action": [pending.pk, settled.pk]},
            follow=True,
        )
        assert b"1 order(s) cancelled. 1 skipped: An order that is paid cannot be cancelled" in (
            response.content
        )
        assert Order.objects.get(pk=pending.pk).status == "cancelled"
        assert Order.objects.get(pk=settled.pk).status == "paid"
        assert AuditEntry.objects.filter(action="order.cancelled", order_id=pending.pk).exists()
        # the refusal is in the trail, as the order page's button leaves it
        assert AuditEntry.objects.filter(
            action="order.cancel", outcome="refused", order_id=settled.pk
        ).exists()
        assert stripe_fake.sent("POST", "/v1/payment_intents/")  # its payment closed

    def test_each_action_needs_its_permission(self, staff_client):
        order = paid()
        client = staff_client("view_order")
        listing = client.get(ORDERS).content.decode()
        for action in ("fulfil_selected", "cancel_selected", "export_csv"):
            assert f'value="{action}"' not in listing
        client.post(ORDERS, {"action": "fulfil_selected", "_selected_action": [order.pk]})
        assert Order.objects.get(pk=order.pk).status == "paid"
        assert not AuditEntry.objects.filter(action="order.fulfilled").exists()

    def test_too_many_at_once_changes_nothing(self, staff_client, monkeypatch):
        from backoffice import actions

        monkeypatch.setattr(actions, "BULK_LIMIT", 1)
        first, second = paid(), paid()
        client = staff_client("view_order", "fulfil_order")
        response = client.post(
            ORDERS,
            {"action": "fulfil_selected", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )
        assert b"Select at most 1 orders at a time" in response.content
        assert set(Order.objects.values_list("status", flat=True)) == {"paid"}
