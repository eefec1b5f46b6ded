"""Property tests: any order, duplication or interleaving of events ends in the same state,
and refunded totals never exceed what was paid."""

import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import Order
from payments.models import PaymentAttempt, Refund, WebhookEvent
from payments.webhooks import inbox, processing
from tests import stripe_events as se
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
_serial = itertools.count()

PAID = 5000
# Three refunds: two succeed (1000 + 1500), one fails (700).
REFUNDS = [("a", 1000, "succeeded"), ("b", 1500, "succeeded"), ("c", 700, "failed")]


def universe(attempt, dispute_outcome: str) -> list[dict]:
    pi = attempt.stripe_payment_intent_id
    tag = pi[-6:]
    events = [se.event("payment_intent.succeeded", se.payment_intent(attempt))]
    for name, amount, final in REFUNDS:
        rid = f"re_{tag}_{name}"
        events.append(
            se.event(
                "refund.created", se.refund(pi, amount=amount, status="pending", refund_id=rid)
            )
        )
        final_type = "refund.failed" if final == "failed" else "refund.updated"
        events.append(
            se.event(final_type, se.refund(pi, amount=amount, status=final, refund_id=rid))
        )
    if dispute_outcome:
        did = f"dp_{tag}"
        events += [
            se.event("charge.dispute.created", se.dispute(pi, amount=PAID, dispute_id=did)),
            se.event(
                "charge.dispute.updated",
                se.dispute(pi, amount=PAID, dispute_id=did, status="under_review"),
            ),
            se.event(
                "charge.dispute.closed",
                se.dispute(pi, amount=PAID, dispute_id=did, status=dispute_outcome),
            ),
        ]
    return events


def new_attempt() -> PaymentAttempt:
    order = OrderFactory(total=PAID, subtotal=PAID)
    return PaymentAttempt.objects.create(
        order=order,
        number=1,
        kind="payment_intent",
        amount=PAID,
        currency="usd",
        stripe_payment_intent_id=f"pi_prop{next(_serial):06d}",
    )


def assert_money_invariants(attempt):
    attempt.refresh_from_db()
    order = Order.objects.get(pk=attempt.order_id)
    assert order.amount_refunded <= order.total
    if attempt.status == "succeeded":
        assert attempt.amount_refunded <= attempt.amount_received
    else:  # nothing can be refunded before the payment is recorded
        assert attempt.amount_refunded == 0


def deliver(events, attempt):
    """Store and process each delivery; then the worker's retries until nothing waits."""
    for evt in events:
        event_pk, created = inbox.store_event(evt)
        if created:
            processing.process(event_pk)
        assert_money_invariants(attempt)
    for _ in range(len(events) + 1):
        waiting = list(WebhookEvent.objects.filter(status="received").values_list("pk", flat=True))
        if not waiting:
            break
        for pk in waiting:
            processing.process(pk)
            assert_money_invariants(attempt)


def final_state(attempt) -> dict:
    attempt.refresh_from_db()
    order = Order.objects.get(pk=attempt.order_id)
    return {
        "order": (order.status, order.amount_refunded),
        "attempt": (attempt.status, attempt.amount_received, attempt.amount_refunded),
        "refunds": sorted(Refund.objects.filter(attempt=attempt).values_list("amount", "status")),
        "disputes": list(attempt.disputes.values_list("status", flat=True)),
        "unprocessed": WebhookEvent.objects.exclude(status="processed").count(),
    }


def run(order_of_delivery, dispute_outcome) -> dict:
    with transaction.atomic():
        attempt = new_attempt()
        events = universe(attempt, dispute_outcome)
        deliver([events[i % len(events)] for i in order_of_delivery(len(events))], attempt)
        state = final_state(attempt)
        transaction.set_rollback(True)
    return state


EXPECTED = {
    "": ("partially_refunded", 2500),
    "lost": ("charged_back", 2500),
    "won": ("partially_refunded", 2500),
}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    dispute_outcome=st.sampled_from(["", "lost", "won"]),
    permutation_seed=st.randoms(use_true_random=False),
    duplicates=st.lists(st.integers(min_value=0, max_value=20), max_size=8),
)
def test_any_order_and_duplication_of_events_ends_in_the_same_state(
    settings_override, dispute_outcome, permutation_seed, duplicates
):
    def in_order(n):
        return list(range(n))

    def shuffled_with_duplicates(n):
        order = list(range(n)) + [d % n for d in duplicates]
        permutation_seed.shuffle(order)
        return order

    canonical = run(in_order, dispute_outcome)
    assert canonical["order"] == EXPECTED[dispute_outcome]
    assert canonical["unprocessed"] == 0
    assert canonical["refunds"] == [(700, "failed"), (1000, "succeeded"), (1500, "succeeded")]
    assert run(shuffled_with_duplicates, dispute_outcome) == canonical


@pytest.fixture
def settings_override(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1000
    settings.STRIPE_SECRET_KEY = "sk_test_props"
    return settings
