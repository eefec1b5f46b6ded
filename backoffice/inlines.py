"""The order screen's inlines: its lines, payment attempts, refunds and disputes, read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from orders.models import OrderLine
from payments.admin.common import dashboard_link, money_display
from payments.disputes.services import RESPONDABLE
from payments.models import Dispute, PaymentAttempt, Refund


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the order sees its lines, payments, refunds and disputes.
        return request.user.has_perm("orders.view_order")


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku", "name", "unit_price", "quantity", "line_total_display")
    readonly_fields = fields

    unit_price = money_display("unit_amount", "unit price", currency="order.currency")
    line_total_display = money_display("line_total", "line total", currency="order.currency")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")


class PaymentAttemptInline(ReadOnlyInline):
    model = PaymentAttempt
    fields = (
        "number",
        "kind",
        "status",
        "amount_display",
        "received_display",
        "refunded_display",
        "stripe_links",
        "failure_code",
        "failure_message",
        "created_at",
    )
    readonly_fields = fields

    amount_display = money_display("amount")
    received_display = money_display("amount_received", "received")
    refunded_display = money_display("amount_refunded", "refunded")

    @admin.display(description="Stripe")
    def stripe_links(self, attempt):
        return format_html(
            "{} {}",
            dashboard_link("payment_intent", attempt.stripe_payment_intent_id),
            dashboard_link("checkout_session", attempt.stripe_checkout_session_id)
            if attempt.stripe_checkout_session_id
            else "",
        )


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = (
        "stripe_link",
        "amount_display",
        "status",
        "reason",
        "failure_reason",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    amount_display = money_display("amount")

    @admin.display(description="Stripe refund")
    def stripe_link(self, refund):
        return dashboard_link("refund", refund.stripe_refund_id)


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = (
        "stripe_link",
        "status",
        "reason",
        "amount_display",
        "evidence_due_by",
        "submission_count",
        "funds_withdrawn",
        "respond_link",
    )
    readonly_fields = fields
    amount_display = money_display("amount")

    @admin.display(description="Stripe dispute")
    def stripe_link(self, dispute):
        return dashboard_link("dispute", dispute.stripe_dispute_id)

    @admin.display(description="response")
    def respond_link(self, dispute):
        """The response page (evidence, accepting), while the dispute still takes one."""
        if dispute.status not in RESPONDABLE:
            return "-"
        return format_html(
            '<a href="{}" class="respond-to-dispute">Respond</a>',
            reverse("admin:payments_dispute_respond", args=[dispute.pk]),
        )
