"""Marking an order fulfilled, whatever refunds and disputes do to its money.

Fulfilment is a fact about the goods (`fulfilment_status`); the order's `status` keeps
following the money. Staff drive the admin's button; Stripe's events arrive as webhooks.
"""

import importlib
from pathlib import Path

import pytest
from django.apps import apps

from audit.models import AuditEntry
from orders.models import Order
from tests import stripe_events as se
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def fulfil_url(order):
    return f"/admin/orders/order/{order.pk}/fulfil/"


def change_page(client, order) -> str:
    return client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()


def refund(send_event, order, amount, refund_id, status="succeeded"):
    pi = order.payment_attempts.get().stripe_payment_intent_id
    kind = "refund.failed" if status == "failed" else "refund.updated"
    send_event(se.event(kind, se.refund(pi, amount=amount, refund_id=refund_id, status=status)))
    order.refresh_from_db()


def state(order):
    order.refresh_from_db()
    return order.status, order.fulfilment_status, order.amount_refunded


@pytest.fixture
def staff(staff_client):
    return staff_client("view_order", "fulfil_order")


def test_a_partially_refunded_order_can_be_marked_fulfilled(staff, paid_order, send_event):
    refund(send_event, paid_order, 500, "re_1")
    assert "Mark fulfilled" in change_page(staff, paid_order)

    response = staff.post(fulfil_url(paid_order), follow=True)

    assert "Order marked fulfilled." in response.content.decode()
    assert state(paid_order) == ("partially_refunded", "fulfilled", 500)
    page = change_page(staff, paid_order)
    assert "Mark fulfilled" not in page
    assert '<div class="readonly">Fulfilled</div>' in page
    entry = AuditEntry.objects.get(action="order.fulfilled", order_id=paid_order.pk)
    assert entry.actor == staff.user


def test_a_fulfilled_order_remembers_it_shipped_through_refunds(staff, paid_order, send_event):
    staff.post(fulfil_url(paid_order))
    assert state(paid_order) == ("fulfilled", "fulfilled", 0)

    refund(send_event, paid_order, 500, "re_1")
    assert state(paid_order) == ("partially_refunded", "fulfilled", 500)
    refund(send_event, paid_order, 500, "re_1", status="failed")  # the refund failed after all
    assert state(paid_order) == ("fulfilled", "fulfilled", 0)
    refund(send_event, paid_order, 6800, "re_2")
    assert state(paid_order) == ("refunded", "fulfilled", 6800)
    listing = staff.get("/admin/orders/order/").content.decode()
    assert 'class="field-fulfilment_status">Fulfilled<' in listing


def test_a_disputed_order_can_ship_and_a_won_dispute_returns_it_fulfilled(
    staff, paid_order, send_event
):
    pi = paid_order.payment_attempts.get().stripe_payment_intent_id
    send_event(se.event("charge.dispute.created", se.dispute(pi, amount=6800)))
    assert "Mark fulfilled" in change_page(staff, paid_order)

    staff.post(fulfil_url(paid_order))
    assert state(paid_order) == ("disputed", "fulfilled", 0)

    send_event(se.event("charge.dispute.closed", se.dispute(pi, amount=6800, status="won")))
    assert state(paid_order) == ("fulfilled", "fulfilled", 0)


@pytest.mark.parametrize("status", ["pending_payment", "refunded", "charged_back", "needs_review"])
def test_orders_without_money_held_cannot_be_fulfilled(staff, status):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(status=status)

    assert "Mark fulfilled" not in change_page(staff, order)
    response = staff.post(fulfil_url(order), follow=True)

    assert "can be fulfilled" in response.content.decode()
    assert state(order)[:2] == (status, "unfulfilled")
    refused = AuditEntry.objects.get(action="order.fulfil", order_id=order.pk)
    assert (refused.outcome, refused.details["code"]) == ("refused", "order_not_fulfillable")


def test_fulfilling_twice_is_refused_and_changes_nothing(staff, paid_order):
    staff.post(fulfil_url(paid_order))
    response = staff.post(fulfil_url(paid_order), follow=True)
    assert "already fulfilled" in response.content.decode()
    assert state(paid_order) == ("fulfilled", "fulfilled", 0)
    assert AuditEntry.objects.filter(action="order.fulfilled").count() == 1


def test_the_shopper_reads_the_fulfilment_status(api, paid_order, staff):
    url = f"/api/v1/orders/{paid_order.pk}/"
    assert api.get(url).json()["fulfilment_status"] == "unfulfilled"
    staff.post(fulfil_url(paid_order))
    assert api.get(url).json()["fulfilment_status"] == "fulfilled"


def test_the_migration_backfills_fulfilled_orders_and_those_the_audit_says_shipped():
    # Found by name, whatever its number.
    [path] = Path(importlib.import_module("orders.migrations").__path__[0]).glob(
        "*_order_fulfilment_status.py"
    )
    migration = importlib.import_module(f"orders.migrations.{path.stem}")
    fulfilled, refunded_later, never = OrderFactory(), OrderFactory(), OrderFactory()
    Order.objects.filter(pk=fulfilled.pk).update(status="fulfilled")
    Order.objects.filter(pk=refunded_later.pk).update(status="partially_refunded")
    AuditEntry.objects.create(action="order.fulfilled", order_id=refunded_later.pk)
    Order.objects.update(fulfilment_status="unfulfilled")  # as before the migration

    migration.backfill(apps, None)

    assert dict(Order.objects.values_list("pk", "fulfilment_status")) == {
        fulfilled.pk: "fulfilled",
        refunded_later.pk: "fulfilled",
        never.pk: "unfulfilled",
    }
