"""The order screen: an order with its money (payments, refunds, disputes, Stripe's side,
the audit trail) and the staff actions on it: refund, mark fulfilled, cancel.

It lives in the back office, not in orders/, because it shows payments, refunds and
disputes, and orders must not import payments. Its admin URLs stay the model's
(/admin/orders/order/).
"""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from audit.models import AuditEntry
from audit.services import record_refusal
from backoffice import outbox  # noqa: F401  (registers the e-mail outbox's screen)
from backoffice.actions import OrderBulkActions
from backoffice.customers import customer_link
from backoffice.exports import ORDER_COLUMNS, ORDER_FIELDS
from backoffice.filters import AttentionFilter, CurrencyFilter
from backoffice.forms import RefundForm, major
from backoffice.inlines import DisputeInline, OrderLineInline, PaymentAttemptInline, RefundInline
from backoffice.pagination import EstimatedCountPaginator
from catalog.money import format_amount
from core.errors import ShopError
from orders import services as order_services
from orders.models import Order, OrderStatus
from payments import selectors
from payments.admin.common import audit_refusal, money_display
from payments.admin.date_range import CreatedRangeFilter
from payments.admin.exports import CsvExportMixin
from payments.errors import OverRefund
from payments.refunds import services as refund_services

CUSTOMER_PERMISSION = "backoffice.view_customer"


@admin.register(Order)
class OrderAdmin(OrderBulkActions, CsvExportMixin, admin.ModelAdmin):
    list_display = (
        "number",
        customer_link,
        "status",
        "fulfilment_status",
        "total_display",
        "refunded_display",
        "currency",
        "created_at",
    )
    # No date_hierarchy and no DISTINCT-over-orders filter: each would read every order on
    # every page load (bench/scale); the from/to range reads the created_at index.
    list_filter = ("status", AttentionFilter, CurrencyFilter, CreatedRangeFilter)
    search_fields = (
        "number",
        "email",
        "payment_attempts__stripe_payment_intent_id",
        "payment_attempts__stripe_checkout_session_id",
        "refunds__stripe_refund_id",
        "disputes__stripe_dispute_id",
    )
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [OrderLineInline, PaymentAttemptInline, RefundInline, DisputeInline]
    actions = ["fulfil_selected", "cancel_selected", "export_csv"]
    export_name, export_fields, export_columns = "orders", ORDER_FIELDS, ORDER_COLUMNS
    readonly_fields = (
        "number",
        customer_link,
        "email",
        "status",
        "fulfilment_status",
        "subtotal_display",
        "total_display",
        "refunded_display",
        "reserved_until",
        "stock_released",
        "created_at",
        "updated_at",
        "stripe_side",
        "audit_trail",
    )
    fields = readonly_fields
    change_form_template = "admin/backoffice/order/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        results, _ = super().get_search_results(request, queryset, search_term)
        if not search_term:  # only a search joins attempts, refunds, disputes
            return results, False
        return results.distinct(), False

    subtotal_display = money_display("subtotal")
    total_display = money_display("total")
    refunded_display = money_display("amount_refunded", "refunded")

    def get_fields(self, request, obj=None):
        # dj-stripe's pages are for superusers (payments/admin/stripe_mirror.py): other
        # staff see the mirrored objects without links to them. Staff who may not open
        # customer pages see the account, not a link that would answer 403.
        fields = self.fields
        if not request.user.is_superuser:
            fields = tuple("stripe_side_text" if f == "stripe_side" else f for f in fields)
        if not request.user.has_perm(CUSTOMER_PERMISSION):
            fields = tuple("user" if f is customer_link else f for f in fields)
        return fields

    def get_list_display(self, request):
        if request.user.has_perm(CUSTOMER_PERMISSION):
            return self.list_display
        return tuple("email" if f is customer_link else f for f in self.list_display)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="Stripe's side (dj-stripe mirror)")
    def stripe_side_text(self, order):
        return self.stripe_side(order, links=False)

    @admin.display(description="Stripe's side (dj-stripe mirror)")
    def stripe_side(self, order, links=True):
        mirrored = selectors.stripe_mirror(order)
        if not mirrored:
            return "Not mirrored yet (filled in by Celery after Stripe's events)."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    obj._meta.verbose_name,
                    format_html(
                        '<a href="{}">{}</a>',
                        reverse(f"admin:djstripe_{obj._meta.model_name}_change", args=[obj.pk]),
                        obj.id,
                    )
                    if links
                    else obj.id,
                    obj.stripe_data.get("status") or "",
                    format_amount(obj.stripe_data["amount"], obj.stripe_data["currency"])
                    if isinstance(obj.stripe_data.get("amount"), int)
                    and obj.stripe_data.get("currency")
                    else "",
                )
                for obj in mirrored
            ),
        )
        return format_html(
            "<table><tr><th>object</th><th>Stripe id</th><th>status at Stripe</th>"
            "<th>amount</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="Audit trail")
    def audit_trail(self, order):
        entries = AuditEntry.objects.filter(order_id=order.pk).order_by("created_at", "id")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{e.created_at:%Y-%m-%d %H:%M:%S}",
                    e.action,
                    e.outcome,
                    e.actor_label,
                    format_amount(e.amount, e.currency)
                    if e.amount is not None and e.currency
                    else "",
                )
                for e in entries
            ),
        )
        return format_html(
            "<table><tr><th>when</th><th>action</th><th>outcome</th><th>who</th>"
            '<th>amount</th></tr>{}</table><p><a href="{}?order={}">In the audit log</a></p>',
            rows,
            reverse("admin:audit_auditentry_changelist"),
            order.pk,
        )

    # --- staff actions -------------------------------------------------------------------
    def get_urls(self):
        own = [
            path(
                "<int:order_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_order_refund",
            ),
            path(
                "<int:order_id>/fulfil/",
                self.admin_site.admin_view(self.fulfil_view),
                name="payments_order_fulfil",
            ),
            path(
                "<int:order_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="payments_order_cancel",
            ),
        ]
        return own + super().get_urls()

    def _change_url(self, order_id):
        return reverse("admin:orders_order_change", args=[order_id])

    def refund_view(self, request, order_id):
        if not request.user.has_perm("orders.refund_order"):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=order_id)
        attempt = refund_services.paid_attempt(order)
        refundable = refund_services.refundable_amount(attempt) if attempt else 0
        form = RefundForm(
            request.POST or None,
            currency=order.currency,
            initial={"amount": major(refundable, order.currency), "request_id": uuid.uuid4()},
        )
        confirming, amount_display = False, ""
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["amount"] > refundable:
                asked = data["amount"]  # add_error takes it out of cleaned_data
                form.add_error(
                    "amount",
                    f"At most {format_amount(refundable, order.currency)} can be refunded.",
                )
                # Refused here before the service is asked: audited as its OverRefund is.
                record_refusal(
                    {
                        "action": "refund.request",
                        "actor": request.user,
                        "obj": order,
                        "order": order,
                        "amount": asked,
                        "currency": order.currency,
                        "details": {"refundable": refundable},
                    },
                    OverRefund.code,
                )
            elif not data["confirmed"]:
                confirming = True  # show the confirmation step with the same request id
                amount_display = format_amount(data["amount"], order.currency)
                form = RefundForm(
                    currency=order.currency,
                    initial={
                        **{k: request.POST.get(k) for k in ("amount", "reason", "request_id")},
                        "confirmed": True,
                    },
                )
            else:
                try:
                    refund_services.create_refund(
                        order_id=order.pk,
                        amount=data["amount"],
                        reason=data["reason"],
                        staff_user=request.user,
                        request_uuid=data["request_id"],
                    )
                except ShopError as exc:
                    audit_refusal(exc)
                    self.message_user(request, exc.message, messages.ERROR)
                    return HttpResponseRedirect(self._change_url(order.pk))
                self.message_user(
                    request,
                    f"Refund of {format_amount(data['amount'], order.currency)} sent to "
                    "Stripe; the order is updated when Stripe confirms it.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(order.pk))
        elif request.method == "POST":
            form.audit_refusal(staff_user=request.user, order=order)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Refund order {order.number}",
            "order": order,
            "form": form,
            "confirming": confirming,
            "amount_display": amount_display,
            "refundable_display": format_amount(refundable, order.currency),
            "paid_display": format_amount(order.total, order.currency),
            "refundable": refundable,
        }
        return TemplateResponse(request, "admin/backoffice/order/refund.html", context)

    def _post_action(self, request, order_id, permission, action, done_message):
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(order_id))
        if not request.user.has_perm(permission):
            raise PermissionDenied
        try:
            action()
        except ShopError as exc:
            audit_refusal(exc)
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, done_message, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(order_id))

    def fulfil_view(self, request, order_id):
        return self._post_action(
            request,
            order_id,
            "orders.fulfil_order",
            lambda: order_services.mark_fulfilled(order_id=order_id, staff_user=request.user),
            "Order marked fulfilled.",
        )

    def cancel_view(self, request, order_id):
        return self._post_action(
            request,
            order_id,
            "orders.change_order",
            lambda: order_services.cancel_order(
                user=request.user, order_id=order_id, as_staff=True
            ),
            "Order cancelled; its stock is back on the shelf.",
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            attempt = refund_services.paid_attempt(obj)
            context.update(
                {
                    "can_refund": request.user.has_perm("orders.refund_order")
                    and obj.status in refund_services.REFUNDABLE_ORDER_STATES
                    and attempt is not None,
                    "can_fulfil": request.user.has_perm("orders.fulfil_order")
                    and obj.can_be_fulfilled(),
                    "can_cancel": request.user.has_perm("orders.change_order")
                    and obj.status == OrderStatus.PENDING_PAYMENT,
                    # Every field is read-only: staff act through the buttons above, so
                    # the page offers "Close", not a "Save" that would change nothing.
                    "show_save": False,
                    "show_save_and_continue": False,
                    "show_save_and_add_another": False,
                }
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
