"""A worker registers every task by name the way it finds them (autodiscovery of each app
and of payments' sub-packages): the names beat schedules and the code queues."""

import pytest
from django.conf import settings

from config.celery import app

QUEUED_BY_CODE = {
    "payments.tasks.enforce_decline_limits",
    "payments.tasks.process_webhook_event",
    "payments.tasks.dispatch_webhook_events",
    "payments.tasks.mirror_stripe_object",
    "payments.tasks.send_outbox_email",
}


@pytest.mark.django_db
def test_every_scheduled_and_queued_task_is_registered_by_autodiscovery():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "payments.tasks.reconcile" in scheduled
    assert "payments.tasks.close_blocked_payments" in scheduled
    assert (scheduled | QUEUED_BY_CODE) - set(app.tasks) == set()
