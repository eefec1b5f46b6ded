from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Project configuration"

    def ready(self):
        from config import checks  # noqa: F401  (registers the system checks)
