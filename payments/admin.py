"""The staff back office: orders with their money, refunds, disputes, the webhook inbox.

The order admin lives here (not in orders/) because it shows payments, refunds and
disputes, and orders must not import payments.
"""

import json
import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from djstripe import models as djstripe_models

from audit.models import AuditEntry
from audit.services import record, record_refusal
from catalog.models import Product
from catalog.money import decimal_places, format_amount, minor_units
from core.errors import ShopError
from observability.redaction import redact
from orders import services as order_services
from orders.models import Order, OrderLine, OrderStatus
from payments import processing, reconciliation, selectors, services
from payments.errors import OverRefund
from payments.models import (
    Dispute,
    PaymentAttempt,
    PaymentDecline,
    ReconciliationMismatch,
    Refund,
    WebhookEvent,
)


def dashboard_link(kind: str, stripe_id: str | None):
    """A link to the object in Stripe's dashboard (test or live, from the key in use)."""
    if not stripe_id:
        return "-"
    paths = {
        "payment_intent": "payments",
        "checkout_session": "checkout/sessions",
        "refund": "refunds",
        "dispute": "disputes",
    }
    return format_html(
        '<a href="{}/{}/{}" target="_blank" rel="noopener">{}</a>',
        settings.STRIPE_DASHBOARD_URL,
        paths[kind],
        stripe_id,
        stripe_id,
    )


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
    fields = ("stripe_link", "status", "reason", "amount", "evidence_due_by", "funds_withdrawn")
    readonly_fields = fields

    @admin.display(description="Stripe dispute")
    def stripe_link(self, dispute):
        return dashboard_link("dispute", dispute.stripe_dispute_id)


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("needs_review", "Needs review"), ("disputed", "Disputed or charged back")]

    def queryset(self, request, queryset):
        if self.value() == "needs_review":
            return queryset.filter(status=OrderStatus.NEEDS_REVIEW)
        if self.value() == "disputed":
            return queryset.filter(status__in=[OrderStatus.DISPUTED, OrderStatus.CHARGED_BACK])
        return queryset


class CurrencyFilter(admin.SimpleListFilter):
    """The catalog's currencies (orders are priced from it): no DISTINCT over every order."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        currencies = Product.objects.order_by("currency").values_list("currency", flat=True)
        return [(c, c.upper()) for c in currencies.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(currency=self.value()) if self.value() else queryset


class EstimatedCountPaginator(Paginator):
    """The unfiltered list's count from PostgreSQL's statistics once the table is large:
    an exact COUNT(*) reads every order (bench/scale). Filtered lists count exactly."""

    ESTIMATE_ABOVE = 100_000

    @property
    def count(self):
        if "_count" not in self.__dict__:
            self._count = self._estimate()
        return self._count

    def _estimate(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return row[0]
        return super().count


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        min_value=0, decimal_places=3, help_text="In the order's currency, e.g. 12.50"
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    request_id = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self):
        """The decimal typed in major units → minor units, exactly (no float), within the
        currency's rules: 1.235 KWD or 5.50 ISK is refused here, as Stripe would."""
        try:
            amount = minor_units(self.cleaned_data["amount"], self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_amount") from None
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount

    def audit_refusal(self, *, staff_user, order) -> None:
        """An amount refused for the currency's rules is audited as the service's own
        refusal is (`refund.request`, refused, `invalid_amount`)."""
        if self.has_error("amount", "invalid_amount"):
            record(
                "refund.request",
                actor=staff_user,
                obj=order,
                order=order,
                currency=order.currency,
                outcome=AuditEntry.Outcome.REFUSED,
                details={"code": "invalid_amount", "entered": str(self.data.get("amount"))[:40]},
            )


def _audit_refusal(exc: ShopError) -> None:
    """A service's refusal, recorded after its rollback exactly as the API's error handler
    records it (api.errors.api_exception_handler): staff refusals leave the same trace."""
    if exc.audit:
        record_refusal(exc.audit, exc.code)


def _major(amount: int, currency: str) -> str:
    places = decimal_places(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"  # exact: no float on the way


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "email",
        "status",
        "total_display",
        "refunded_display",
        "currency",
        "created_at",
    )
    # No date_hierarchy and no DISTINCT-over-orders filter: each would read every order on
    # every page load (bench/scale); the created_at filter offers the date ranges.
    list_filter = ("status", AttentionFilter, CurrencyFilter, "created_at")
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
    readonly_fields = (
        "number",
        "user",
        "email",
        "status",
        "currency",
        "subtotal",
        "total",
        "amount_refunded",
        "reserved_until",
        "stock_released",
        "created_at",
        "updated_at",
        "stripe_side",
        "audit_trail",
    )
    fields = readonly_fields
    change_form_template = "admin/payments/order/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        results, _ = super().get_search_results(request, queryset, search_term)
        if not search_term:  # only a search joins attempts, refunds, disputes
            return results, False
        return results.distinct(), False

    @admin.display(description="total", ordering="total")
    def total_display(self, order):
        return format_amount(order.total, order.currency)

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded_display(self, order):
        return format_amount(order.amount_refunded, order.currency)

    @admin.display(description="Stripe's side (dj-stripe mirror)")
    def stripe_side(self, order):
        mirrored = selectors.stripe_mirror(order)
        if not mirrored:
            return "Not mirrored yet (filled in by Celery after Stripe's events)."
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            (
                (
                    obj._meta.verbose_name,
                    reverse(f"admin:djstripe_{obj._meta.model_name}_change", args=[obj.pk]),
                    obj.id,
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
        attempt = services.paid_attempt(order)
        refundable = services.refundable_amount(attempt) if attempt else 0
        form = RefundForm(
            request.POST or None,
            currency=order.currency,
            initial={"amount": _major(refundable, order.currency), "request_id": uuid.uuid4()},
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
                    services.create_refund(
                        order_id=order.pk,
                        amount=data["amount"],
                        reason=data["reason"],
                        staff_user=request.user,
                        request_uuid=data["request_id"],
                    )
                except ShopError as exc:
                    _audit_refusal(exc)
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
            "refundable": refundable,
        }
        return TemplateResponse(request, "admin/payments/order/refund.html", context)

    def _post_action(self, request, order_id, permission, action, done_message):
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(order_id))
        if not request.user.has_perm(permission):
            raise PermissionDenied
        try:
            action()
        except ShopError as exc:
            _audit_refusal(exc)
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
            attempt = services.paid_attempt(obj)
            context.update(
                {
                    "can_refund": request.user.has_perm("orders.refund_order")
                    and obj.status in services.REFUNDABLE_ORDER_STATES
                    and attempt is not None,
                    "can_fulfil": request.user.has_perm("orders.fulfil_order")
                    and obj.status == OrderStatus.PAID,
                    "can_cancel": request.user.has_perm("orders.change_order")
                    and obj.status == OrderStatus.PENDING_PAYMENT,
                }
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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

    @admin.display(description="order")
    def order_link(self, dispute):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:orders_order_change", args=[dispute.order_id]),
            dispute.order.number,
        )

    @admin.display(description="amount")
    def amount_display(self, dispute):
        return format_amount(dispute.amount, dispute.currency)

    @admin.display(boolean=True, description="overdue")
    def overdue(self, dispute):
        return bool(
            not dispute.is_closed
            and dispute.evidence_due_by
            and dispute.evidence_due_by < timezone.now()
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "order", "amount", "currency", "status", "created_by", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("stripe_refund_id", "order__number")
    list_select_related = ("order", "created_by")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_event_id",
        "type",
        "status",
        "attempts",
        "short_error",
        "received_at",
        "handled_at",
    )
    list_filter = ("status", "source", "type")
    search_fields = ("=stripe_event_id", "=payment_intent_id", "=order_id")
    readonly_fields = (
        "stripe_event_id",
        "type",
        "source",
        "status",
        "attempts",
        "last_error",
        "received_at",
        "handled_at",
        "next_attempt_at",
        "livemode",
        "api_version",
        "order_id",
        "payment_intent_id",
        "payload_pretty",
    )
    fields = readonly_fields
    actions = ["replay"]
    show_full_result_count = False

    @admin.display(description="last error")
    def short_error(self, event):
        error = redact(event.last_error)
        return (error[:80] + "...") if len(error) > 80 else error

    @admin.display(description="payload (redacted)")
    def payload_pretty(self, event):
        # Redacted as logs are (observability.redaction): client secrets, e-mail addresses,
        # keys and card numbers are masked. format_html escapes: what Stripe or a shopper put
        # in the payload stays text.
        shown = redact(event.payload)
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, sort_keys=True))

    @admin.action(description="Replay selected failed or ignored events", permissions=["replay"])
    def replay(self, request, queryset):
        chosen = list(
            queryset.filter(
                status__in=[WebhookEvent.Status.FAILED, WebhookEvent.Status.IGNORED]
            ).values_list("pk", flat=True)
        )
        processing.reopen(WebhookEvent.objects.filter(pk__in=chosen))
        for pk in chosen:
            processing.process(pk)
        results = dict(
            WebhookEvent.objects.filter(pk__in=chosen).values_list("stripe_event_id", "status")
        )
        skipped = queryset.count() - len(chosen)
        summary = ", ".join(f"{evt}: {status}" for evt, status in sorted(results.items()))
        self.message_user(
            request,
            f"Replayed {len(chosen)} event(s). {summary}"
            + (f" ({skipped} skipped: only failed or ignored events replay)" if skipped else ""),
            messages.SUCCESS,
        )

    def has_replay_permission(self, request):
        return request.user.has_perm("payments.replay_webhookevent")


# dj-stripe's API key admin would store a key in clear (djstripe_apikey): keys live in the
# environment only (payments.mirror refuses APIKey rows).
if admin.site.is_registered(djstripe_models.APIKey):
    admin.site.unregister(djstripe_models.APIKey)


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "status", "amount", "currency", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("=stripe_payment_intent_id", "=stripe_checkout_session_id", "order__number")
    list_select_related = ("order",)


@admin.register(PaymentDecline)
class PaymentDeclineAdmin(ReadOnlyAdmin):
    """The declines the card-testing limits count (payments.declines).

    Staff with the delete permission lift a block early by deleting the rows that caused
    it (a shopper who called, an office behind one address); every deletion is audited.
    """

    list_display = ("declined_at", "user", "client_address", "card_fingerprint", "code", "attempt")
    list_filter = ("code",)
    search_fields = ("=client_address", "=card_fingerprint", "=user__email", "=stripe_event_id")
    list_select_related = ("user", "attempt__order")

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


class OpenMismatchFilter(admin.SimpleListFilter):
    """Open mismatches by default: what staff still have to look at."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def value(self):
        return super().value() or "open"

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class AcknowledgeForm(forms.Form):
    note = forms.CharField(max_length=200, help_text="What was done, for the audit trail.")


STRIPE_ID_KINDS = {"pi_": "payment_intent", "cs_": "checkout_session", "re_": "refund"}


@admin.register(ReconciliationMismatch)
class ReconciliationMismatchAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "subject_link",
        "order_link",
        "local_state",
        "stripe_state",
        "last_seen_at",
        "resolution",
    )
    list_filter = (OpenMismatchFilter, "kind")
    search_fields = ("=subject", "order__number")
    list_select_related = ("order",)
    readonly_fields = (
        "kind",
        "subject_link",
        "order_link",
        "local_state",
        "stripe_state",
        "details",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolution",
        "resolved_by",
    )
    fields = readonly_fields
    actions = ["fix_selected"]
    change_form_template = "admin/payments/reconciliationmismatch/change_form.html"

    @admin.display(description="subject")
    def subject_link(self, mismatch):
        kind = next(
            (k for prefix, k in STRIPE_ID_KINDS.items() if mismatch.subject.startswith(prefix)),
            None,
        )
        return dashboard_link(kind, mismatch.subject) if kind else mismatch.subject

    @admin.display(description="order")
    def order_link(self, mismatch):
        if mismatch.order_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:orders_order_change", args=[mismatch.order_id]),
            mismatch.order.number,
        )

    def has_fix_permission(self, request):
        return request.user.has_perm("payments.fix_reconciliationmismatch")

    def _fix(self, request, mismatch) -> None:
        try:
            report = reconciliation.fix_mismatch(mismatch, staff_user=request.user)
        except ShopError as exc:
            _audit_refusal(exc)
            self.message_user(request, f"{mismatch}: {exc.message}", messages.ERROR)
            return
        mismatch.refresh_from_db()
        if not mismatch.is_open:
            self.message_user(request, f"{mismatch}: {mismatch.resolution}", messages.SUCCESS)
            return
        why = "; ".join(report.unfixed.values()) or "; ".join(report.errors) or "still differs"
        self.message_user(request, f"{mismatch}: not fixed ({why})", messages.WARNING)

    @admin.action(description="Fix selected with Stripe's truth", permissions=["fix"])
    def fix_selected(self, request, queryset):
        for mismatch in queryset.filter(resolved_at__isnull=True).select_related(
            "order", "attempt"
        ):
            self._fix(request, mismatch)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/fix/",
                self.admin_site.admin_view(self.fix_view),
                name="payments_reconciliationmismatch_fix",
            ),
            path(
                "<int:pk>/acknowledge/",
                self.admin_site.admin_view(self.acknowledge_view),
                name="payments_reconciliationmismatch_acknowledge",
            ),
        ]
        return own + super().get_urls()

    def _change_url(self, pk):
        return reverse("admin:payments_reconciliationmismatch_change", args=[pk])

    def fix_view(self, request, pk):
        if not self.has_fix_permission(request):
            raise PermissionDenied
        mismatch = get_object_or_404(ReconciliationMismatch, pk=pk)
        if request.method == "POST":
            if mismatch.is_open:
                self._fix(request, mismatch)
            else:
                self.message_user(request, "Already resolved.", messages.INFO)
        return HttpResponseRedirect(self._change_url(pk))

    def acknowledge_view(self, request, pk):
        if not self.has_fix_permission(request):
            raise PermissionDenied
        mismatch = get_object_or_404(ReconciliationMismatch, pk=pk)
        form = AcknowledgeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reconciliation.acknowledge(
                mismatch, staff_user=request.user, note=form.cleaned_data["note"]
            )
            self.message_user(request, f"{mismatch}: marked resolved.", messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Mark a mismatch resolved",
            "mismatch": mismatch,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/payments/reconciliationmismatch/acknowledge.html", context
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_fix"] = obj is not None and obj.is_open and self.has_fix_permission(request)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
