"""Payment attempts: read-only, found by Stripe's ids or the order's number."""

from django.contrib import admin

from payments.admin.common import ReadOnlyAdmin
from payments.admin.date_range import CreatedRangeFilter
from payments.models import PaymentAttempt


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "status", "amount", "currency", "created_at")
    list_filter = ("status", "kind", CreatedRangeFilter)
    search_fields = ("=stripe_payment_intent_id", "=stripe_checkout_session_id", "order__number")
    list_select_related = ("order",)
