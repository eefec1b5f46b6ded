"""CSV exports from the staff lists (orders, refunds, disputes), streamed row by row.

An export holds what the list shows with its current filters and search. The list's
"Export CSV" link carries the list's query string to `<list>/export/`, which builds the
same ChangeList (without counting or paging it) and streams its queryset; the "Export
selected as CSV" action streams the ticked rows (or all of them, "select all"). Rows come
from one `.values()` query read with `.iterator()` (a server-side cursor on PostgreSQL)
and are written in batches, so a million orders never sit in memory.

Cells: dates in ISO 8601, UTC (`2026-11-30T05:25:43Z`); every amount twice, in major units
with the currency's own places ("61.00", "500" JPY, "1.230" KWD) and in minor units; a text
cell that starts with = + - @ (or a tab or carriage return) gets a leading apostrophe, so a
spreadsheet shows it instead of running it as a formula.

Permission: `<app>.export_<model>` (orders.export_order, payments.export_refund,
payments.export_dispute); staff without it see neither link nor action and get 403. Each
export is audited (`<model>.exported`) with what it covered.
"""

import csv
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

from audit.services import record
from catalog.money import major_units

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FETCH_ROWS = 2000  # rows per round trip of the server-side cursor
WRITE_ROWS = 500  # rows per chunk handed to the response

Column = tuple[str, Callable[[dict], Any]]


def cell(value):
    """One CSV cell: dates in UTC, text guarded against formulas, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text(header: str, field: str) -> Column:
    return header, lambda row: row[field]


def money(header: str, field: str, currency: str = "currency") -> list[Column]:
    """Two columns: `header` in major units (a decimal string) and `header_minor`."""
    return [
        (header, lambda row: major_units(row[field], row[currency])),
        (f"{header}_minor", lambda row: row[field]),
    ]


class _Echo:
    """csv.writer's file: hands each written line back instead of storing it."""

    def write(self, line):
        return line


def csv_response(filename: str, columns: list[Column], rows: Iterable[dict]):
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([header for header, _ in columns])
        batch = []
        for row in rows:
            batch.append(writer.writerow([cell(value(row)) for _, value in columns]))
            if len(batch) >= WRITE_ROWS:
                yield "".join(batch)
                batch = []
        if batch:
            yield "".join(batch)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _UnpagedChangeList(ChangeList):
    """The list's filters, search and ordering, without its COUNT and its page query."""

    def get_results(self, request):
        self.result_count = self.full_result_count = None
        self.result_list = []


class CsvExportMixin:
    """Adds the "Export CSV" link, the `export/` view and the `export_csv` action (list it
    in the admin's `actions`). The admin names the fields it reads and its columns."""

    export_name = ""  # the file's name: <export_name>-<UTC time>.csv
    export_fields: tuple[str, ...] = ()
    export_columns: list[Column] = []
    change_list_template = "admin/payments/csv_export_change_list.html"

    def has_export_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.export_{opts.model_name}")

    def _export_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        own = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name=self._export_url_name(),
            )
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_export_permission(request):
            query = request.GET.copy()
            query.pop(PAGE_VAR, None)
            url = reverse(f"admin:{self._export_url_name()}")
            extra_context["export_url"] = f"{url}?{query.urlencode()}" if query else url
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The whole list as it is filtered and searched now."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        list_display = self.get_list_display(request)
        try:
            changelist = _UnpagedChangeList(
                request,
                self.model,
                list_display,
                self.get_list_display_links(request, list_display),
                self.get_list_filter(request),
                self.date_hierarchy,
                self.get_search_fields(request),
                self.get_list_select_related(request),
                self.list_per_page,
                self.list_max_show_all,
                self.list_editable,
                self,
                self.get_sortable_by(request),
                self.search_help_text,
            )
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(f"These filters cannot be exported: {exc}")
        query = request.GET.copy()
        query.pop(PAGE_VAR, None)
        return self.export_response(
            request, changelist.queryset, {"scope": "list", "filters": query.urlencode()[:500]}
        )

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across") == "1"
        scope = {"scope": "all matching" if across else "selected"}
        if not across:
            scope["selected"] = len(selected)
        return self.export_response(request, queryset, scope)

    def export_response(self, request, queryset, details: dict):
        record(f"{self.opts.model_name}.exported", actor=request.user, details=details)
        rows = queryset.values(*self.export_fields).iterator(chunk_size=FETCH_ROWS)
        filename = f"{self.export_name}-{timezone.now():%Y%m%dT%H%M%SZ}.csv"
        return csv_response(filename, self.export_columns, rows)


REFUND_COLUMNS: list[Column] = [
    text("refund_id", "id"),
    text("stripe_refund_id", "stripe_refund_id"),
    text("order_number", "order__number"),
    text("created_at", "created_at"),
    text("status", "status"),
    text("currency", "currency"),
    *money("amount", "amount"),
    text("reason", "reason"),
    text("email", "order__email"),
]
REFUND_FIELDS = (
    "id",
    "stripe_refund_id",
    "order__number",
    "created_at",
    "status",
    "currency",
    "amount",
    "reason",
    "order__email",
)

DISPUTE_COLUMNS: list[Column] = [
    text("stripe_dispute_id", "stripe_dispute_id"),
    text("order_number", "order__number"),
    text("created_at", "created_at"),
    text("status", "status"),
    text("reason", "reason"),
    text("currency", "currency"),
    *money("amount", "amount"),
    text("evidence_due_by", "evidence_due_by"),
    text("email", "order__email"),
]
DISPUTE_FIELDS = (
    "stripe_dispute_id",
    "order__number",
    "created_at",
    "status",
    "reason",
    "currency",
    "amount",
    "evidence_due_by",
    "order__email",
)
