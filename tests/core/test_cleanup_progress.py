"""`manage.py cleanup` tells the operator each job as it runs, then a summary of the counts and
the time taken; what it says matches what happened to the rows."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from idempotency.models import IdempotencyKey
from orders.models import Order
from payments.models import WebhookEvent
from tests.core.test_cleanup import cleanup, make_overdue, webhook_event

pytestmark = pytest.mark.django_db


def test_each_job_is_announced_and_the_summary_counts_what_was_deleted(
    start_payment, stripe_fake, settings
):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    order = make_overdue(start_payment().order)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    keys = IdempotencyKey.objects.count()
    webhook_event("processed", age_days=31)
    webhook_event("ignored", age_days=40)
    kept = webhook_event("received", age_days=400, handled=False)

    lines = cleanup().splitlines()

    assert lines[0] == "[1/3] orders..."
    assert re.fullmatch(r"\[1/3\] orders: 1 orders expired, 0 orders left \(\d+\.\ds\)", lines[1])
    assert lines[2] == "[2/3] idempotency keys..."
    assert re.fullmatch(
        rf"\[2/3\] idempotency keys: {keys} idempotency keys deleted \(.*\)", lines[3]
    )
    assert re.fullmatch(r"\[3/3\] webhook events: 2 webhook events deleted \(\d+\.\ds\)", lines[5])
    assert re.fullmatch(
        rf"Cleanup done in \d+\.\ds: 1 orders expired, 0 orders left, {keys} idempotency keys "
        r"deleted, 2 webhook events deleted\.",
        lines[-1],
    ), lines[-1]
    assert Order.objects.get(pk=order.pk).status == "expired"
    assert IdempotencyKey.objects.count() == 0
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_dry_run_summary_says_nothing_changed(start_payment, stripe_fake):
    order = make_overdue(start_payment().order)

    summary = cleanup("--dry-run").splitlines()[-1]

    assert re.fullmatch(
        r"Dry run done in \d+\.\ds, nothing changed; it would be: 1 orders expired, "
        r"0 orders left, \d+ idempotency keys deleted, 0 webhook events deleted\.",
        summary,
    ), summary
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_without_a_stripe_key_it_says_why_orders_open_at_stripe_are_left(
    start_payment, stripe_fake, settings
):
    order = make_overdue(start_payment().order)
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_EMULATOR_STOPPED = ""

    out = cleanup()

    assert out.startswith("Note: STRIPE_SECRET_KEY is not set")
    assert f"left for the next run {order.number} (payments_not_configured)" in out
    assert "1 orders left" in out.splitlines()[-1]
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
