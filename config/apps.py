from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Project configuration"

    def ready(self):
        from config.ratelimits import rate_limits_not_enforced, validate_configuration
        from observability import alerts

        # A malformed limit or proxy list stops start-up here, never a request later.
        validate_configuration()
        alerts.register("rate_limits_not_enforced", rate_limits_not_enforced)
