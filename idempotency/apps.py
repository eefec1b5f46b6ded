from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "idempotency"
    verbose_name = "Idempotency keys"

    def ready(self):
        from core import housekeeping
        from idempotency.housekeeping import purge_idempotency_keys

        housekeeping.register("idempotency_keys", purge_idempotency_keys, position=20)
