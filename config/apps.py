from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Project configuration"

    def ready(self):
        from django.db.models.signals import post_save

        from audit.models import AuditEntry

        # Imported for their side effects: the system checks, and the Celery signal handlers
        # that carry the request id into tasks.
        from config import task_context  # noqa: F401
        from config.ratelimits import validate_configuration

        # A malformed limit or proxy list stops start-up here, never a request later.
        validate_configuration()
        from config.metrics import audit_entry_saved

        post_save.connect(audit_entry_saved, sender=AuditEntry, dispatch_uid="metrics-audit")
