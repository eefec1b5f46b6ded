from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import signals  # noqa: F401 (connects the receivers)
        from accounts.staff_groups import on_post_migrate

        # Once per migrate (or flush), after accounts' own: the staff groups.
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="accounts.staff_groups")
