from django.apps import AppConfig


class ApiConfig(AppConfig):
    """DRF plumbing: error bodies, strict input, pagination, schema, rate limits."""

    name = "api"
    verbose_name = "API"

    def ready(self):
        from django.urls import register_converter

        from api.converters import IdConverter
        from api.ratelimits import rate_limits_not_enforced, validate_configuration
        from observability import alerts

        # A malformed limit or proxy list stops start-up here, never a request later.
        validate_configuration()
        alerts.register("rate_limits_not_enforced", rate_limits_not_enforced)
        register_converter(IdConverter, "id")  # <id:pk> in every app's urls.py
