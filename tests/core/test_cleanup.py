"""`manage.py cleanup` and its beat task: what shoppers, staff and Stripe see afterwards."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from config.celery import app as celery_app
from core.housekeeping import run_cleanup
from idempotency.models import IdempotencyKey
from orders.housekeeping import expire_overdue_orders
from orders.models import Order
from payments.housekeeping import prune_webhook_events
from payments.models import PaymentAttempt, WebhookEvent
from tests import stripe_fake as fake_answers
from tests.concurrency import run_in_threads
from tests.factories import ProductFactory


def make_overdue(order: Order, minutes: int = 5) -> Order:
    """The shopper walked away: the reservation ran out `minutes` ago."""
    Order.objects.filter(pk=order.pk).update(
        reserved_until=timezone.now() - timedelta(minutes=minutes)
    )
    order.refresh_from_db()
    return order


def cleanup(*args) -> str:
    out = io.StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def shelf(api, order: Order) -> list[int]:
    """What shoppers see as available for each product of the order."""
    return [
        api.get(f"/api/v1/products/{pid}/").json()["available_quantity"]
        for pid in sorted(order.quantities())
    ]


def order_status(api, order: Order) -> str:
    return api.get(f"/api/v1/orders/{order.pk}/").json()["status"]


def payment_status(api, order: Order) -> str:
    return api.get(f"/api/v1/orders/{order.pk}/payment/").json()["status"]


def cancels_at_stripe(stripe_fake, attempt: PaymentAttempt):
    path = f"/v1/payment_intents/{attempt.stripe_payment_intent_id}/cancel"
    return stripe_fake.sent("POST", path)


def webhook_event(status: str, *, age_days: float, handled: bool = True) -> WebhookEvent:
    when = timezone.now() - timedelta(days=age_days)
    event = WebhookEvent.objects.create(
        stripe_event_id=f"evt_{status}_{age_days}_{WebhookEvent.objects.count()}",
        type="payment_intent.succeeded",
        payload={},
        status=status,
        handled_at=when if handled else None,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=when)
    return event


@pytest.mark.django_db
class TestExpiringOrders:
    def test_an_overdue_order_is_expired_once_its_stock_returns_once_and_stripe_is_told_once(
        self, api, start_payment, stripe_fake
    ):
        # given an order whose payment was started and whose reservation ran out
        attempt = start_payment()  # 2 x product A, 1 x product B, 5 of each on the shelf
        order = make_overdue(attempt.order)
        assert shelf(api, order) == [3, 4]

        # when cleanup runs, and beat runs it again later
        first = cleanup()
        second = cleanup()

        # then the shopper sees the order expired and the payment canceled
        assert order_status(api, order) == "expired"
        assert payment_status(api, order) == "canceled"
        # the units are back on the shelf, once
        assert shelf(api, order) == [5, 5]
        # Stripe got exactly one cancel for the PaymentIntent, with a deterministic key
        [cancel] = cancels_at_stripe(stripe_fake, attempt)
        assert cancel.idempotency_key == f"order-{order.pk}-attempt-1-close"
        # the operator reads what happened
        assert "1 expired, 0 left for the next run" in first
        assert f"expired {order.number}" in first
        assert "0 expired, 0 left for the next run" in second
        assert order.number not in second
        # and staff find one expiry in the audit trail
        assert AuditEntry.objects.filter(action="order.expired", order_id=order.pk).count() == 1

    def test_an_order_the_shopper_cancelled_meanwhile_is_left_as_it_is(
        self, api, start_payment, stripe_fake
    ):
        attempt = start_payment()
        order = make_overdue(attempt.order)
        assert api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {}).status_code == 200
        assert shelf(api, order) == [5, 5]

        output = cleanup()

        assert order_status(api, order) == "cancelled"
        assert shelf(api, order) == [5, 5]  # not released a second time
        assert len(cancels_at_stripe(stripe_fake, attempt)) == 1  # the shopper's cancel only
        assert order.number not in output
        assert not AuditEntry.objects.filter(action="order.expired").exists()

    def test_an_order_still_within_its_reservation_is_untouched(
        self, api, start_payment, stripe_fake
    ):
        attempt = start_payment()
        order = attempt.order
        Order.objects.filter(pk=order.pk).update(
            reserved_until=timezone.now() + timedelta(minutes=1)
        )

        output = cleanup()

        assert order_status(api, order) == "pending_payment"
        assert payment_status(api, order) == "requires_payment"
        assert shelf(api, order) == [3, 4]
        assert cancels_at_stripe(stripe_fake, attempt) == []
        assert "0 expired" in output

    def test_an_order_without_any_payment_started_is_expired_without_calling_stripe(
        self, api, stripe_fake
    ):
        product = ProductFactory(stock=5)
        body = {"lines": [{"product_id": product.pk, "quantity": 2}]}
        order = Order.objects.get(pk=api.post_idem("/api/v1/orders/", body).json()["id"])
        make_overdue(order)

        cleanup()

        assert order_status(api, order) == "expired"
        assert shelf(api, order) == [5]
        assert stripe_fake.requests == []

    def test_with_stripe_unreachable_the_order_is_left_for_the_next_run_and_others_go_on(
        self, api, start_payment, stripe_fake
    ):
        # given two overdue orders; Stripe drops the first cancel (the oldest order's)
        stuck_attempt, other_attempt = start_payment(), start_payment()
        stuck = make_overdue(stuck_attempt.order, minutes=10)
        other = make_overdue(other_attempt.order, minutes=5)
        stripe_fake.fail_next(fake_answers.CONNECTION)

        output = cleanup()

        # then the stuck order is still payable, its stock still held, its payment open
        assert order_status(api, stuck) == "pending_payment"
        assert payment_status(api, stuck) == "requires_payment"
        assert shelf(api, stuck) == [3, 4]
        # the other order was expired all the same
        assert order_status(api, other) == "expired"
        assert shelf(api, other) == [5, 5]
        # and the operator is told which order is left and why
        assert "1 expired, 1 left for the next run" in output
        assert f"left for the next run {stuck.number} (stripe_unavailable)" in output

        # when Stripe is back, the next run finishes the job
        again = cleanup()
        assert f"expired {stuck.number}" in again
        assert order_status(api, stuck) == "expired"
        assert shelf(api, stuck) == [5, 5]
        # the retry carried the same idempotency key as the request that was lost
        keys = [r.idempotency_key for r in cancels_at_stripe(stripe_fake, stuck_attempt)]
        assert keys == [f"order-{stuck.pk}-attempt-1-close"] * 2

    def test_batches_walk_past_an_order_left_behind_and_ties_on_reserved_until(
        self, api, start_payment, stripe_fake
    ):
        attempts = [start_payment() for _ in range(3)]
        stuck = make_overdue(attempts[0].order, minutes=10)
        tied = [attempt.order for attempt in attempts[1:]]
        Order.objects.filter(pk__in=[o.pk for o in tied]).update(
            reserved_until=timezone.now() - timedelta(minutes=5)
        )
        stripe_fake.fail_next(fake_answers.CONNECTION)

        report = expire_overdue_orders(batch_size=1)

        assert [left.number for left in report.left] == [stuck.number]
        assert sorted(report.expired) == sorted(o.number for o in tied)
        assert [order_status(api, o) for o in tied] == ["expired", "expired"]


@pytest.mark.django_db
def test_dry_run_changes_nothing_and_sends_nothing_to_stripe(api, start_payment, stripe_fake):
    attempt = start_payment()
    order = make_overdue(attempt.order)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    keys = IdempotencyKey.objects.count()
    old_event = webhook_event("processed", age_days=31)
    sent_before = len(stripe_fake.requests)

    output = cleanup("--dry-run")

    assert "Dry run" in output
    assert f"would expire {order.number}" in output
    assert "Idempotency keys older than" in output and f": {keys} would be deleted" in output
    assert "Handled webhook events older than" in output and ": 1 would be deleted" in output
    assert order_status(api, order) == "pending_payment"
    assert payment_status(api, order) == "requires_payment"
    assert shelf(api, order) == [3, 4]
    assert IdempotencyKey.objects.count() == keys
    assert WebhookEvent.objects.filter(pk=old_event.pk).exists()
    assert len(stripe_fake.requests) == sent_before
    assert not AuditEntry.objects.filter(action="order.expired").exists()


@pytest.mark.django_db
def test_idempotency_keys_older_than_24_hours_are_purged_newer_ones_kept(api, settings):
    settings.IDEMPOTENCY_KEY_RETENTION = timedelta(hours=24)
    product = ProductFactory(stock=10)
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
    api.post("/api/v1/orders/", body, idempotency_key="yesterday")
    recent = api.post("/api/v1/orders/", body, idempotency_key="this-morning")
    IdempotencyKey.objects.filter(key="yesterday").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyKey.objects.filter(key="this-morning").update(
        created_at=timezone.now() - timedelta(hours=23)
    )

    output = cleanup()

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["this-morning"]
    [line] = [line for line in output.splitlines() if line.startswith("Idempotency keys")]
    assert line.endswith(": 1 deleted.")
    # a retry within 24 hours still gets the stored answer and creates nothing
    replay = api.post("/api/v1/orders/", body, idempotency_key="this-morning")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == recent.json()["id"]
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_handled_webhook_events_past_retention_are_pruned_received_and_failed_kept(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    pruned = [webhook_event("processed", age_days=31), webhook_event("ignored", age_days=45)]
    kept = [
        webhook_event("processed", age_days=29),
        webhook_event("ignored", age_days=1),
        webhook_event("received", age_days=400, handled=False),
        webhook_event("failed", age_days=400, handled=False),
        # a failed event with an old handled_at (replayed, then failed again) stays too
        webhook_event("failed", age_days=400),
        webhook_event("received", age_days=400),
    ]

    output = cleanup()

    remaining = set(WebhookEvent.objects.values_list("pk", flat=True))
    assert remaining == {event.pk for event in kept}
    assert not remaining & {event.pk for event in pruned}
    assert "Handled webhook events older than" in output and ": 2 deleted" in output


@pytest.mark.django_db
def test_pruning_in_small_batches_deletes_every_prunable_event():
    for _ in range(5):
        webhook_event("processed", age_days=60)
    webhook_event("failed", age_days=60)

    report = prune_webhook_events(batch_size=2)

    assert report.count == 5
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["failed"]


@pytest.fixture
def eager_celery():
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.mark.django_db
def test_beat_runs_the_cleanup_task_every_5_minutes_with_the_same_effect(
    api, start_payment, stripe_fake, settings, eager_celery
):
    entry = settings.CELERY_BEAT_SCHEDULE["cleanup"]
    assert entry["task"] == "config.tasks.cleanup"
    assert entry["schedule"] == 300.0
    # A worker finds the task the way it finds every other one (autodiscovery).
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[entry["task"]]

    attempt = start_payment()
    order = make_overdue(attempt.order)
    webhook_event("processed", age_days=31)
    result = task.apply_async(**entry.get("options", {})).get()

    assert result["orders_expired"] == 1 and result["webhook_events_deleted"] == 1
    assert order_status(api, order) == "expired"
    assert shelf(api, order) == [5, 5]
    assert len(cancels_at_stripe(stripe_fake, attempt)) == 1
    assert not WebhookEvent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rival", ["shopper cancels", "a second cleanup run"])
def test_a_race_for_the_same_overdue_order_has_exactly_one_winner(
    rival, api, start_payment, stripe_fake, monkeypatch
):
    # given an overdue order with an open PaymentIntent, and a Stripe slow to answer a cancel
    # so that whoever locks the order first is still inside its transaction when the other
    # one arrives
    attempt = start_payment()
    order = make_overdue(attempt.order)
    answer = stripe_fake.request

    def slow_cancel(method, url, headers, post_data=None):
        if url.endswith("/cancel"):
            time.sleep(0.3)
        return answer(method, url, headers, post_data)

    monkeypatch.setattr(stripe_fake, "request", slow_cancel)

    def shopper_cancels():
        return api.post_idem(f"/api/v1/orders/{order.pk}/cancel/", {}).status_code

    def cleanup_expires():
        return order.number in run_cleanup().orders.expired

    rival_function = shopper_cancels if rival == "shopper cancels" else cleanup_expires

    expired_by_cleanup, rival_result = run_in_threads([cleanup_expires, rival_function])

    if rival == "shopper cancels":
        shopper_won = rival_result == 200
        assert rival_result in (200, 409)
        assert shopper_won != expired_by_cleanup
        assert order_status(api, order) == ("cancelled" if shopper_won else "expired")
    else:
        assert [expired_by_cleanup, rival_result].count(True) == 1
        assert order_status(api, order) == "expired"
    # stock went back once, Stripe was told once, staff see one closing entry
    assert shelf(api, order) == [5, 5]
    assert len(cancels_at_stripe(stripe_fake, attempt)) == 1
    closings = AuditEntry.objects.filter(
        action__in=["order.expired", "order.cancelled"], order_id=order.pk
    )
    assert closings.count() == 1
