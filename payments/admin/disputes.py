"""Disputes: soonest evidence deadline first, the overdue ones marked; and the response
page (permission `payments.respond_dispute`): evidence saved as a draft at Stripe or
submitted, or the dispute accepted, each confirmed first (payments.disputes.services)."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog.money import format_amount
from core.errors import ShopError
from payments.admin.common import ReadOnlyAdmin, audit_refusal, dashboard_link, money_display
from payments.admin.date_range import CreatedRangeFilter
from payments.admin.dispute_forms import AcceptForm, EvidenceForm
from payments.admin.exports import DISPUTE_COLUMNS, DISPUTE_FIELDS, CsvExportMixin
from payments.disputes import evidence, selectors, services
from payments.errors import StripeRefused
from payments.models import Dispute

RESPOND_PERMISSION = "payments.respond_dispute"
DONE = {
    "draft": "Evidence saved as a draft at Stripe; nothing was sent to the bank yet.",
    "submit": "Evidence submitted to the bank through Stripe: the dispute is under review.",
    "accept": "Dispute accepted at Stripe: it is lost and the order is charged back.",
}


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
class DisputeAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = (
        "stripe_dispute_id",
        "order_link",
        "status",
        "reason",
        "amount_display",
        "evidence_due_by",
        "overdue",
        "respond_link",
    )
    list_filter = ("status", OverdueFilter, "reason", CreatedRangeFilter)
    search_fields = ("stripe_dispute_id", "order__number")
    ordering = ("evidence_due_by", "id")
    list_select_related = ("order",)
    actions = ["export_csv"]
    export_name, export_fields, export_columns = "disputes", DISPUTE_FIELDS, DISPUTE_COLUMNS
    fields = (
        "stripe_dispute_id",
        "order_link",
        "attempt",
        "status",
        "reason",
        "amount_display",
        "evidence_due_by",
        "overdue",
        "submission_count",
        "has_evidence",
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

    @admin.display(description="response")
    def respond_link(self, dispute):
        if dispute.status not in services.RESPONDABLE:
            return "-"
        return format_html(
            '<a href="{}">Respond</a>', reverse("admin:payments_dispute_respond", args=[dispute.pk])
        )

    # --- the response page -------------------------------------------------------------
    def get_urls(self):
        own = [
            path(
                "<int:pk>/respond/",
                self.admin_site.admin_view(self.respond_view),
                name="payments_dispute_respond",
            )
        ]
        return own + super().get_urls()

    def respond_view(self, request, pk):
        if not request.user.has_perm(RESPOND_PERMISSION):
            raise PermissionDenied
        dispute = get_object_or_404(Dispute.objects.select_related("order"), pk=pk)
        page_url = reverse("admin:payments_dispute_respond", args=[pk])
        if request.method != "POST":
            staged = selectors.staged_evidence(dispute)
            if staged is None and dispute.status in services.RESPONDABLE:
                self.message_user(
                    request,
                    "Stripe could not be reached: the evidence staged there is not shown.",
                    messages.WARNING,
                )
            form = EvidenceForm(initial={**(staged or {}), "request_id": uuid.uuid4()})
            return self._respond_page(request, dispute, form, staged=staged)
        kind = request.POST.get("action")
        if kind not in services.ACTIONS:
            return HttpResponseBadRequest("Unknown action.")
        form = (AcceptForm if kind == "accept" else EvidenceForm)(request.POST)
        if not form.is_valid():
            return self._respond_page(request, dispute, form)
        data = form.cleaned_data
        if kind != "draft" and not data["confirmed"]:
            return self._respond_page(request, dispute, form, confirming=kind)
        try:
            if kind == "accept":
                services.accept_dispute(
                    dispute_id=dispute.pk, staff_user=request.user, request_uuid=data["request_id"]
                )
            else:
                services.save_evidence(
                    dispute_id=dispute.pk,
                    evidence=form.evidence(),
                    submit=kind == "submit",
                    staff_user=request.user,
                    request_uuid=data["request_id"],
                )
        except ShopError as exc:
            audit_refusal(exc)
            self.message_user(request, exc.message, messages.ERROR)
            dispute.refresh_from_db()
            if exc.audit or dispute.status not in services.RESPONDABLE:
                return HttpResponseRedirect(page_url)  # refused: the page says why
            if isinstance(exc, StripeRefused):
                if kind == "accept":
                    return HttpResponseRedirect(page_url)
                # Stripe keeps its refusal under the old key: a corrected form needs a new one.
                data = request.POST.copy()
                data["request_id"] = str(uuid.uuid4())
                return self._respond_page(request, dispute, EvidenceForm(data))
            # Stripe could not be reached: sent again, the same form (the same key) repeats
            # the same call, which Stripe answers once.
            confirming = None if kind == "draft" else kind
            return self._respond_page(request, dispute, form, confirming=confirming)
        self.message_user(request, DONE[kind], messages.SUCCESS)
        return HttpResponseRedirect(page_url)

    def _respond_page(self, request, dispute, form, confirming=None, staged=None):
        evidence_form = (
            form
            if isinstance(form, EvidenceForm)
            else EvidenceForm(initial={"request_id": uuid.uuid4()})
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Respond to dispute {dispute.stripe_dispute_id}",
            "dispute": dispute,
            "order": dispute.order,
            "stripe_link": dashboard_link("dispute", dispute.stripe_dispute_id),
            "amount_display": format_amount(dispute.amount, dispute.currency),
            "respondable": dispute.status in services.RESPONDABLE,
            "overdue": services.is_overdue(dispute),
            "form": evidence_form,
            "accept_form": form
            if isinstance(form, AcceptForm)
            else AcceptForm(initial={"request_id": uuid.uuid4()}),
            "confirming": confirming,
            "filled": [f for f in evidence_form.evidence_fields() if f.value()],
            "at_stripe": [
                (label, staged[name]) for name, label, *_ in evidence.FIELDS if staged[name]
            ]
            if staged
            else [],
        }
        return TemplateResponse(request, "admin/payments/dispute/respond.html", context)
