from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from django.db.models.signals import post_save

        from audit.models import AuditEntry
        from audit.services import record_alert
        from audit.signals import audit_entry_saved
        from observability import alerts

        post_save.connect(audit_entry_saved, sender=AuditEntry, dispatch_uid="metrics-audit")
        alerts.on_notify(record_alert)  # every alert that starts or stops holding is audited
