from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core import housekeeping
        from orders.housekeeping import expire_overdue_orders

        housekeeping.register("orders", expire_overdue_orders, position=10)
