"""The customer page: one shopper's orders and money, for support staff."""

import re

import pytest

from orders.models import Order
from tests.factories import OrderFactory, UserFactory
from tests.staff import confirm_at_stripe, submit_refund

pytestmark = pytest.mark.django_db


def customer_page(client, user):
    return client.get(f"/admin/backoffice/customer/{user.pk}/change/")


def test_the_page_lists_only_this_customers_orders_and_their_money(
    staff_client, paid_order, send_event, stripe_fake, start_payment
):
    refunder = staff_client("view_order", "refund_order")
    submit_refund(refunder, paid_order, "18.00")
    confirm_at_stripe(send_event, stripe_fake)
    unpaid = start_payment().order  # the same shopper, a second order
    someone_else = OrderFactory()

    client = staff_client("view_customer")
    page = customer_page(client, paid_order.user)
    text = page.content.decode()
    assert page.status_code == 200
    assert set(re.findall(r"ORD-[0-9A-Z]{8}", text)) == {paid_order.number, unpaid.number}
    assert someone_else.number not in text
    assert f'href="/admin/orders/order/{paid_order.pk}/change/"' in text
    assert "Partially refunded" in text and "68.00 USD" in text
    assert re.search(r'class="money-usd"><td>USD</td><td>68.00 USD</td><td>18.00 USD</td>', text)
    assert "2 payment attempt(s), 1 refund(s), 0 dispute(s)" in text
    assert f"/admin/orders/order/?user__id__exact={paid_order.user_id}" in text
    # read-only, and nothing about passwords or staff flags
    assert 'name="email"' not in text and 'name="password' not in text
    assert "field-password" not in text and "is_superuser" not in text


def test_the_order_list_filtered_to_one_customer(staff_client):
    mine, other = OrderFactory(), OrderFactory()
    client = staff_client("view_order")
    page = client.get(f"/admin/orders/order/?user__id__exact={mine.user_id}").content.decode()
    assert mine.number in page and other.number not in page


def test_each_order_links_to_its_customer(staff_client):
    order = OrderFactory()
    client = staff_client("view_order", "view_customer")
    link = f'href="/admin/backoffice/customer/{order.user_id}/change/"'
    assert link in client.get("/admin/orders/order/").content.decode()
    assert link in client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()


def test_staff_who_may_not_open_customers_get_no_link_that_would_refuse(staff_client):
    order = OrderFactory()
    client = staff_client("view_order")
    listing = client.get("/admin/orders/order/").content.decode()
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "/admin/backoffice/customer/" not in listing + page
    assert order.email in listing and order.email in page


def test_only_staff_with_the_view_permission_see_it(staff_client):
    shopper = UserFactory()
    assert customer_page(staff_client("view_order"), shopper).status_code == 403
    client = staff_client("view_customer")
    assert customer_page(client, shopper).status_code == 200
    assert client.post(
        f"/admin/backoffice/customer/{shopper.pk}/change/", {"email": "x@y.z"}
    ).status_code in (403, 302)
    shopper.refresh_from_db()
    assert shopper.email != "x@y.z"


def test_search_by_exact_address_or_order_number(staff_client):
    order = OrderFactory()
    other = UserFactory()
    client = staff_client("view_customer")
    by_mail = client.get(f"/admin/backoffice/customer/?q={order.user.email.upper()}")
    assert order.user.email in by_mail.content.decode()
    assert other.email not in by_mail.content.decode()
    by_number = client.get(f"/admin/backoffice/customer/?q={order.number.lower()}")
    assert order.user.email in by_number.content.decode()
    assert Order.objects.count() == 1
