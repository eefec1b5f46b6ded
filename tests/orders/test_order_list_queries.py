"""`GET orders/` costs the same few queries for one order or a full page of them, each with
its lines and its latest payment attempt (it made one query per order before)."""

import pytest

from payments.models import PaymentAttempt
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def orders_with_attempts(user, count):
    orders = OrderFactory.create_batch(count, user=user)
    for order in orders:
        for number in (1, 2):
            PaymentAttempt.objects.create(
                order=order,
                number=number,
                kind=PaymentAttempt.Kind.PAYMENT_INTENT,
                stripe_payment_intent_id=f"pi_{order.pk}_{number}",
                amount=order.total,
                currency=order.currency,
                status="failed" if number == 1 else "requires_payment",
            )
    return orders


def list_queries(client_for, django_assert_max_num_queries, count, budget):
    user = UserFactory()
    orders_with_attempts(user, count)
    api = client_for(user)
    with django_assert_max_num_queries(budget) as captured:
        response = api.get("/api/v1/orders/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == count
    assert all(o["payment"]["status"] == "requires_payment" for o in body["results"])
    assert all(len(o["lines"]) == 1 for o in body["results"])
    return len(captured.captured_queries)


def test_the_order_list_costs_the_same_for_one_order_and_for_twenty(
    client_for, django_assert_max_num_queries
):
    one = list_queries(client_for, django_assert_max_num_queries, 1, budget=12)
    twenty = list_queries(client_for, django_assert_max_num_queries, 20, budget=one)
    assert twenty == one
