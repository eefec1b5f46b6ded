from django.apps import AppConfig


class DemoShopConfig(AppConfig):
    """The demo storefront page (/shop/) and `manage.py seed_demo`."""

    name = "demo_shop"
    verbose_name = "Demo shop"
