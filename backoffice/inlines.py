"""The order screen's inlines: its lines, payment attempts, refunds and disputes, read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from orders.models import OrderLine
from payments.admin.common import dashboard_link
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
    fields = ("sku", "name", "unit_amount", "quantity", "line_total")
    readonly_fields = fields


class PaymentAttemptInline(ReadOnlyInline):
    model = PaymentAttempt
    fields = (
        "number",
        "kind",
        "status",
        "amount",
        "amount_received",
        "amount_refunded",
        "stripe_links",
        "failure_code",
        "failure_message",
        "created_at",
    )
    readonly_fields = fields

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
        "amount",
        "status",
        "reason",
        "failure_reason",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Stripe refund")
    def stripe_link(self, refund):
        return dashboard_link("refund", refund.stripe_refund_id)


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = (
        "stripe_link",
        "status",
        "reason",
        "amount",
        "evidence_due_by",
        "submission_count",
        "funds_withdrawn",
        "respond_link",
    )
    readonly_fields = fields

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
