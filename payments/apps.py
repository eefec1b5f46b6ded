from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from orders.selectors import register_payment_summary
        from payments import receivers  # noqa: F401  (connects the order signals)
        from payments.selectors import payment_summary

        register_payment_summary(payment_summary)
