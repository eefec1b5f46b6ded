"""The admin's home page: the dashboard staff see first, its numbers, links and who sees
which widget."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.dashboard.widgets import widgets_for
from orders.models import Order
from payments.models import (
    Dispute,
    PaymentAttempt,
    ReconciliationMismatch,
    Refund,
    WebhookEvent,
)
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def at(row, when):
    """Move a row's auto_now_add time (the ORM cannot set it on create)."""
    type(row).objects.filter(pk=row.pk).update(
        **{"received_at" if isinstance(row, WebhookEvent) else "created_at": when}
    )


def attempt(order, status, number=1, when=None):
    row = PaymentAttempt.objects.create(
        order=order,
        number=number,
        kind="payment_intent",
        status=status,
        stripe_payment_intent_id=f"pi_dash_{order.pk}_{number}",
        amount=order.total,
        currency=order.currency,
        amount_received=order.total if status == "succeeded" else 0,
    )
    if when:
        at(row, when)
    return row


@pytest.fixture
def shop_week():
    """A week of business: paid orders in two currencies, a failed payment, refunds, open
    disputes, failed webhook events and open mismatches, plus rows that must not count."""
    now = timezone.now()
    today = OrderFactory(status="paid", total=6100, subtotal=6100)
    two_days = OrderFactory(status="refunded", total=2500, subtotal=2500)
    at(two_days, now - timedelta(days=2))
    yen = OrderFactory(status="fulfilled", currency="jpy", total=1800, subtotal=1800)
    old = OrderFactory(status="paid", total=99900, subtotal=99900)
    at(old, now - timedelta(days=9))  # outside the week
    unpaid = OrderFactory(total=5000, subtotal=5000)  # pending payment: not volume

    paid_attempt = attempt(today, "succeeded")
    attempt(two_days, "succeeded", when=now - timedelta(days=2))
    attempt(unpaid, "failed")
    attempt(unpaid, "failed", number=2, when=now - timedelta(days=3))
    attempt(old, "failed", when=now - timedelta(days=9))  # outside the week

    Refund.objects.create(
        attempt=paid_attempt, order=today, amount=500, currency="usd", status="succeeded"
    )
    Refund.objects.create(
        attempt=paid_attempt, order=today, amount=700, currency="usd", status="failed"
    )
    for n, days in enumerate([-1, 0.5, 2, 30]):
        Dispute.objects.create(
            attempt=paid_attempt,
            order=today,
            stripe_dispute_id=f"dp_dash_{n}",
            amount=6100,
            currency="usd",
            status="needs_response",
            evidence_due_by=now + timedelta(days=days),
        )
    Dispute.objects.create(
        attempt=paid_attempt,
        order=today,
        stripe_dispute_id="dp_dash_won",
        amount=6100,
        currency="usd",
        status="won",
        evidence_due_by=now - timedelta(days=5),
    )
    for n, status in enumerate(["failed", "failed", "processed"]):
        WebhookEvent.objects.create(
            stripe_event_id=f"evt_dash_{n}", type="charge.refunded", payload={}, status=status
        )
    for n, resolved in enumerate([None, None, now]):
        ReconciliationMismatch.objects.create(
            kind="amount", subject=f"pi_mm_{n}", last_seen_at=now, resolved_at=resolved
        )
    return {"today": today, "two_days": two_days, "yen": yen, "old": old}


def texts(widget):
    return [line.text for line in widget.lines]


def test_the_numbers_a_superuser_sees(admin_user, shop_week):
    widgets = {w.key: w for w in widgets_for(admin_user)}
    assert list(widgets) == ["volume", "payments", "refunds", "disputes", "webhooks", "mismatches"]
    assert texts(widgets["volume"]) == [
        "JPY: today 1,800 JPY (1 orders), 7 days 1,800 JPY (1 orders)",
        "USD: today 61.00 USD (1 orders), 7 days 86.00 USD (2 orders)",
    ]
    assert texts(widgets["payments"]) == [
        "Today: 50.0 % (1 succeeded, 1 failed)",
        "Last 7 days: 50.0 % (2 succeeded, 2 failed)",
    ]
    assert texts(widgets["refunds"]) == ["USD: 1 refunds, 5.00 USD, 1 failed or canceled"]
    assert texts(widgets["disputes"]) == ["4 open, 1 overdue"]
    assert texts(widgets["webhooks"]) == ["2 failed events in all"]
    assert texts(widgets["mismatches"]) == ["2 open", "Amount or currency differs: 2"]


def test_the_home_page_draws_the_charts_as_svg_with_links(admin_client, shop_week):
    page = admin_client.get("/admin/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<svg class="chart') == 6  # two volume, two success, disputes, events
    assert "<script" not in html.split('id="dashboard"')[1].split("</div>")[0]
    assert "/static/backoffice/dashboard.css" in html
    assert "61.00 USD" in html
    assert "Models" in html or "Orders" in html  # the list of models is still there


def links(widget):
    return [line.href for line in widget.lines if line.href]


def chart_links(svg):
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)"', svg)]


def rows_behind(client, href):
    return client.get(href).content.decode()


def test_each_number_links_to_its_filtered_list(admin_user, admin_client, shop_week):
    widgets = {w.key: w for w in widgets_for(admin_user)}
    usd_week = rows_behind(admin_client, links(widgets["volume"])[1])
    assert shop_week["today"].number in usd_week and shop_week["two_days"].number in usd_week
    assert shop_week["old"].number not in usd_week and shop_week["yen"].number not in usd_week

    # A day's bar: the orders of that day only.
    chart = widgets["volume"].charts[1][1]
    day_links = chart_links(chart)
    assert len(day_links) == 7
    today_only = rows_behind(admin_client, day_links[-1])
    assert shop_week["today"].number in today_only
    assert shop_week["two_days"].number not in today_only

    failed_today = rows_behind(admin_client, links(widgets["payments"])[0])
    assert failed_today.count('class="field-status">Failed<') == 1
    overdue_bar = chart_links(widgets["disputes"].charts[0][1])[0]
    overdue = rows_behind(admin_client, overdue_bar)
    assert "dp_dash_0" in overdue and "dp_dash_1" not in overdue and "dp_dash_won" not in overdue
    events = rows_behind(admin_client, widgets["webhooks"].href)
    assert "evt_dash_0" in events and "evt_dash_2" not in events
    refunds = rows_behind(admin_client, links(widgets["refunds"])[0])
    assert refunds.count('class="field-amount_display">') == 2
    mismatches = rows_behind(admin_client, links(widgets["mismatches"])[1])
    assert "pi_mm_0" in mismatches and "pi_mm_2" not in mismatches


@pytest.mark.parametrize(
    ("codenames", "shown"),
    [
        ((), []),
        (("orders.view_order",), ["volume"]),
        (("payments.view_refund", "payments.view_dispute"), ["refunds", "disputes"]),
        (("payments.view_webhookevent",), ["webhooks"]),
        (("payments.view_reconciliationmismatch",), ["mismatches"]),
        (("payments.view_paymentattempt",), ["payments"]),
        # dj-stripe's models of the same name do not open ours.
        (("djstripe.view_refund", "djstripe.view_dispute"), []),
    ],
)
def test_staff_see_only_the_widgets_of_models_they_may_view(
    staff_client, shop_week, codenames, shown
):
    client = staff_client(*codenames)
    html = client.get("/admin/").content.decode()
    assert re.findall(r'id="widget-(\w+)"', html) == shown
    assert [w.key for w in widgets_for(client.user)] == shown


def test_a_shopper_sees_no_dashboard(client, shop_week):
    shopper = UserFactory()
    client.force_login(shopper)
    assert client.get("/admin/").status_code == 302  # to the admin login


@pytest.mark.postgres
def test_every_dashboard_query_can_use_an_index(admin_user, shop_week):
    """With sequential scans priced out, the plan of each query on a table that grows with
    the business (orders, attempts, refunds, events) reads an index: no full-table scan
    once those tables hold a million rows (bench/scale)."""
    with CaptureQueriesContext(connection) as captured:
        widgets_for(admin_user)
    growing = ["orders_order", "payments_paymentattempt", "payments_refund"]
    growing.append("payments_webhookevent")
    checked = 0
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            if not any(table in query["sql"] for table in growing):
                continue
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for table in growing:
                assert f"Seq Scan on {table}" not in plan, plan
            # ... and reads it by a condition (not a whole index end to end).
            assert "Index Cond" in plan or "Recheck Cond" in plan, plan
            checked += 1
    assert checked == 5  # volume, attempts, refunds, failed events (count, per day)
    assert len(captured.captured_queries) == 7  # and disputes, mismatches


def test_the_home_page_costs_a_fixed_number_of_queries(admin_client, shop_week):
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/")
    for _ in range(20):
        order = OrderFactory(status="paid")
        attempt(order, "failed")
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/")
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Order.objects.count() > 20
