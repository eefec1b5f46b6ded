"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import os
import sys

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Autodiscovery finds each installed app's own tasks module; payments keeps its tasks in
# its sub-packages (each task keeps its name explicitly).
app.autodiscover_tasks(
    [
        "payments.checkout",
        "payments.gateway",
        "payments.reconciliation",
        "payments.webhooks",
    ]
)


@worker_init.connect
@beat_init.connect
def refuse_unsafe_configuration(**kwargs):
    """A worker or beat refuses what the web process refuses (core/checks.py): receipts
    through a console backend, a missing Redis, ... A signal handler's exception would only
    be logged, so the process exits itself."""
    import django

    django.setup()
    from django.core.exceptions import ImproperlyConfigured

    from core.checks import fail_on_configuration_errors

    try:
        fail_on_configuration_errors()
    except ImproperlyConfigured as exc:
        sys.__stderr__.write(f"{exc}\n")  # beat and workers redirect sys.stderr to logging
        raise SystemExit(1) from exc
