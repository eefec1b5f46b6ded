from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Staff screens that span apps: the order with its payments, refunds and disputes.

    It may import orders and payments; nothing imports it (config's INSTALLED_APPS lists it).
    """

    name = "backoffice"
    verbose_name = "Back office"
