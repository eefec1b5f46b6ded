from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Logs, redaction, metrics, alerts, Sentry, health. Apps register what they measure."""

    name = "observability"
    verbose_name = "Observability"

    def ready(self):
        # Celery signal handlers that carry the request id into tasks.
        from observability import task_context  # noqa: F401
