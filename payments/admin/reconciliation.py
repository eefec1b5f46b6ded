"""Reconciliation mismatches: open ones first, fixed with Stripe's truth or acknowledged."""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.money import format_amount
from core.errors import ShopError
from payments.admin.common import ReadOnlyAdmin, audit_refusal, dashboard_link
from payments.models import ReconciliationMismatch
from payments.reconciliation import mismatches


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


# A PaymentIntent's state as reconciliation records it: status/amount_received[/code].
STATE_WITH_AMOUNT = re.compile(r"([a-z_]+)/(\d+)(/.*)?")
STRIPE_ID_KINDS = {"pi_": "payment_intent", "cs_": "checkout_session", "re_": "refund"}


@admin.register(ReconciliationMismatch)
class ReconciliationMismatchAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "subject_link",
        "order_link",
        "local_state",
        "stripe_state_display",
        "last_seen_at",
        "resolution",
    )
    list_filter = (OpenMismatchFilter, "kind")
    search_fields = ("=subject", "order__number")
    list_select_related = ("order", "attempt")
    readonly_fields = (
        "kind",
        "subject_link",
        "order_link",
        "local_state",
        "stripe_state_display",
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

    @admin.display(description="stripe state")
    def stripe_state_display(self, mismatch):
        """Stripe's state as reconciliation keeps it ("succeeded/6800", the key of its fix),
        its amount shown as money: "succeeded, 68.00 USD"."""
        state = mismatch.stripe_state
        raw = STATE_WITH_AMOUNT.fullmatch(state)
        if raw is None or mismatch.attempt is None:
            return state
        status, amount, rest = raw.groups()
        return f"{status}, {format_amount(int(amount), mismatch.attempt.currency)}{rest or ''}"

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
            report = mismatches.fix_mismatch(mismatch, staff_user=request.user)
        except ShopError as exc:
            audit_refusal(exc)
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
            mismatches.acknowledge(
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
