from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Staff screens that span apps: the order with its payments, refunds and disputes, and
    the admin's home page (the dashboard, backoffice/dashboard/).

    It may import orders and payments; nothing imports it (config's INSTALLED_APPS lists it).
    """

    name = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        from django.contrib import admin

        from backoffice import audit_log

        # The admin's home page: the dashboard above the list of models.
        admin.site.index_template = "admin/backoffice/index.html"
        # The audit log in sentences with order numbers (in place of audit's raw rows).
        audit_log.register(admin.site)
