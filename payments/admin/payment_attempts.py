"""Payment attempts: read-only, found by Stripe's ids or the order's number."""

from django.contrib import admin

from payments.admin.common import ReadOnlyAdmin, money_display
from payments.admin.date_range import CreatedRangeFilter
from payments.models import PaymentAttempt


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "status", "amount_display", "created_at")
    list_filter = ("status", "kind", CreatedRangeFilter)
    search_fields = ("=stripe_payment_intent_id", "=stripe_checkout_session_id", "order__number")
    list_select_related = ("order",)
    fields = (
        "order",
        "number",
        "kind",
        "status",
        "amount_display",
        "amount_received_display",
        "amount_refunded_display",
        "stripe_payment_intent_id",
        "stripe_checkout_session_id",
        "stripe_charge_id",
        "checkout_expires_at",
        "failure_code",
        "failure_message",
        "client_address",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    amount_display = money_display("amount")
    amount_received_display = money_display("amount_received", "received")
    amount_refunded_display = money_display("amount_refunded", "refunded")
