from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from core import housekeeping
        from orders.selectors import register_payment_summary
        from payments import monitoring, receivers  # noqa: F401  (receivers: the order signals)
        from payments.gateway.mirror import install_keyless_owner_lookup
        from payments.housekeeping import prune_webhook_events
        from payments.selectors import payment_summary, summary_prefetch

        register_payment_summary(payment_summary, prefetch=summary_prefetch)
        install_keyless_owner_lookup()  # dj-stripe must never write a key to the database
        housekeeping.register("webhook_events", prune_webhook_events, position=30)
        monitoring.register()  # alert conditions, /metrics gauges, the readiness check
