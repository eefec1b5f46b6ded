"""Property test: staff marking an order fulfilled and Stripe's refund events, in any
interleaving, never lose the fulfilment and always leave the refunded total right."""

import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import Order
from orders.services import mark_fulfilled
from payments.models import PaymentAttempt
from payments.webhooks import inbox, processing
from tests import stripe_events as se
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
_serial = itertools.count()

PAID = 5000

# A step: staff fulfil; refund i succeeds (amount); refund i fails afterwards (Stripe lets a
# succeeded refund fail). Four refunds of at most 1200 stay below what was paid.
steps = st.lists(
    st.one_of(
        st.just(("fulfil",)),
        st.tuples(st.just("refund"), st.integers(0, 3), st.integers(1, 1200)),
        st.tuples(st.just("fail"), st.integers(0, 3)),
    ),
    max_size=12,
)


def paid_order() -> tuple[Order, str]:
    order = OrderFactory(total=PAID, subtotal=PAID)
    pi = f"pi_fulfil{next(_serial):06d}"
    attempt = PaymentAttempt.objects.create(
        order=order,
        number=1,
        kind="payment_intent",
        amount=PAID,
        currency="usd",
        stripe_payment_intent_id=pi,
    )
    deliver(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order, pi


def deliver(evt):
    event_pk, _ = inbox.store_event(evt)
    assert processing.process(event_pk) == processing.DONE


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_fulfilment_survives_any_interleaving_of_refunds(settings_override, steps):
    with transaction.atomic():
        staff = UserFactory(is_staff=True)
        order, pi = paid_order()
        refunds: dict[int, tuple[int, str]] = {}  # index → (amount, status)
        fulfilled = False
        for step in steps:
            if step[0] == "fulfil":
                if fulfilled:
                    continue  # staff do not mark it twice (refused: test_fulfilment.py)
                mark_fulfilled(order_id=order.pk, staff_user=staff)
                fulfilled = True
            elif step[0] == "refund" and step[1] not in refunds:
                index, amount = step[1], step[2]
                refund = se.refund(pi, amount=amount, refund_id=f"re_{pi}_{index}")
                deliver(se.event("refund.updated", refund))
                refunds[index] = (amount, "succeeded")
            elif step[0] == "fail" and step[1] in refunds:
                amount, _ = refunds[step[1]]
                failed = se.refund(
                    pi, amount=amount, refund_id=f"re_{pi}_{step[1]}", status="failed"
                )
                deliver(se.event("refund.failed", failed))
                refunds[step[1]] = (amount, "failed")

            order.refresh_from_db()
            refunded = sum(a for a, status in refunds.values() if status == "succeeded")
            assert order.amount_refunded == refunded
            assert order.fulfilment_status == ("fulfilled" if fulfilled else "unfulfilled")
            settled = "fulfilled" if fulfilled else "paid"
            assert order.status == (settled if refunded == 0 else "partially_refunded")
        transaction.set_rollback(True)


@pytest.fixture
def settings_override(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_props"
    return settings
