"""Card declines: staff lift a card-testing block early by deleting its rows, audited."""

from django.contrib import admin

from audit.services import record
from payments.admin.common import ReadOnlyAdmin, money_display
from payments.models import PaymentDecline


@admin.register(PaymentDecline)
class PaymentDeclineAdmin(ReadOnlyAdmin):
    """The declines the card-testing limits count (payments.checkout.declines).

    Staff with the delete permission lift a block early by deleting the rows that caused
    it (a shopper who called, an office behind one address); every deletion is audited.
    """

    list_display = (
        "declined_at",
        "user",
        "client_address",
        "card_fingerprint",
        "code",
        "attempt",
        "amount_display",
    )
    list_filter = ("code",)
    search_fields = ("=client_address", "=card_fingerprint", "=user__email", "=stripe_event_id")
    list_select_related = ("user", "attempt__order")
    amount_display = money_display("attempt.amount", "amount", currency="attempt.currency")

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def delete_model(self, request, obj):
        record(
            "payment_decline.deleted",
            actor=request.user,
            obj=obj.attempt,
            order=obj.attempt.order_id,
            details={
                "stripe_event": obj.stripe_event_id,
                "shopper": obj.user_id,
                "client_address": obj.client_address,
                "declined_at": obj.declined_at.isoformat(),
            },
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for decline in queryset.select_related("attempt"):
            self.delete_model(request, decline)
