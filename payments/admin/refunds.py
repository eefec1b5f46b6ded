"""Refunds: read-only (staff refund from the order's page, backoffice/admin.py)."""

from django.contrib import admin

from payments.admin.common import ReadOnlyAdmin, money_display
from payments.admin.date_range import CreatedRangeFilter
from payments.admin.exports import REFUND_COLUMNS, REFUND_FIELDS, CsvExportMixin
from payments.models import Refund


@admin.register(Refund)
class RefundAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = ("__str__", "order", "amount_display", "status", "created_by", "created_at")
    list_filter = ("status", "currency", CreatedRangeFilter)
    search_fields = ("stripe_refund_id", "order__number")
    list_select_related = ("order", "created_by")
    actions = ["export_csv"]
    export_name, export_fields, export_columns = "refunds", REFUND_FIELDS, REFUND_COLUMNS
    fields = (
        "order",
        "attempt",
        "stripe_refund_id",
        "amount_display",
        "status",
        "reason",
        "failure_reason",
        "created_by",
        "idempotency_uuid",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    amount_display = money_display("amount")
