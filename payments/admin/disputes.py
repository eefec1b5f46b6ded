"""Disputes: read-only, soonest evidence deadline first, the overdue ones marked."""

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from payments.admin.common import ReadOnlyAdmin, money_display
from payments.models import Dispute


class OverdueFilter(admin.SimpleListFilter):
    title = "evidence"
    parameter_name = "evidence"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("open", "Open")]

    def queryset(self, request, queryset):
        open_q = ~Q(status__in=["won", "lost", "warning_closed", "prevented"])
        if self.value() == "overdue":
            return queryset.filter(open_q, evidence_due_by__lt=timezone.now())
        if self.value() == "open":
            return queryset.filter(open_q)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_dispute_id",
        "order_link",
        "status",
        "reason",
        "amount_display",
        "evidence_due_by",
        "overdue",
    )
    list_filter = ("status", OverdueFilter, "reason")
    search_fields = ("stripe_dispute_id", "order__number")
    ordering = ("evidence_due_by", "id")
    list_select_related = ("order",)
    fields = (
        "stripe_dispute_id",
        "order_link",
        "attempt",
        "status",
        "reason",
        "amount_display",
        "evidence_due_by",
        "overdue",
        "funds_withdrawn",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="order")
    def order_link(self, dispute):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:orders_order_change", args=[dispute.order_id]),
            dispute.order.number,
        )

    amount_display = money_display("amount")

    @admin.display(boolean=True, description="overdue")
    def overdue(self, dispute):
        return bool(
            not dispute.is_closed
            and dispute.evidence_due_by
            and dispute.evidence_due_by < timezone.now()
        )
