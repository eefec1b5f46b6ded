from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app stands on: errors, request context, client address, Redis, checks."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core import (
            checks,  # noqa: F401  (registers the shop.E0xx system checks)
            task_connections,  # noqa: F401  (a worker keeps its connection)
        )
