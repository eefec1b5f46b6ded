"""A from/to date filter on a list's `created_at`, for orders, attempts, refunds, disputes.

Two plain `<input type="date">` fields in a GET form (no script: the admin's CSP allows
none inline) that keep the list's other filters and search as hidden fields, plus the
usual shortcuts (today, past 7 days, this month, this year). Days are UTC days, the
shop's TIME_ZONE; "to" is inclusive: `created_to=2026-11-30` keeps the whole 30th. The
query is `created_at >= start AND created_at < end`, which the created_at indexes serve,
so a range on a million orders reads only the range (no date_hierarchy: see the order
list). A date that is not YYYY-MM-DD is refused like any bad list filter.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.http import QueryDict
from django.utils import timezone


class CreatedRangeFilter(admin.ListFilter):
    title = "created (UTC days)"
    template = "admin/payments/date_range_filter.html"
    field = "created_at"
    FROM, TO = "created_from", "created_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in (self.FROM, self.TO):
            if name in params:
                value = params.pop(name)
                value = value[-1] if isinstance(value, list) else value
                if value:
                    self.used_parameters[name] = value.strip()

    def _day(self, name) -> date | None:
        raw = self.used_parameters.get(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise IncorrectLookupParameters(f"{name} must be a date, YYYY-MM-DD") from None

    @staticmethod
    def _start_of(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.FROM, self.TO]

    def queryset(self, request, queryset):
        start, end = self._day(self.FROM), self._day(self.TO)
        if start:
            queryset = queryset.filter(**{f"{self.field}__gte": self._start_of(start)})
        if end:
            next_day = self._start_of(end + timedelta(days=1))
            queryset = queryset.filter(**{f"{self.field}__lt": next_day})
        return queryset

    def choices(self, changelist):
        others = QueryDict(
            changelist.get_query_string(remove=[self.FROM, self.TO, PAGE_VAR]).lstrip("?")
        )
        yield {
            "form": True,
            "from": self.used_parameters.get(self.FROM, ""),
            "to": self.used_parameters.get(self.TO, ""),
            "hidden": [(k, v) for k, values in others.lists() for v in values],
        }
        today = timezone.localdate()
        shortcuts = [
            ("Any date", None, None),
            ("Today", today, today),
            ("Past 7 days", today - timedelta(days=6), today),
            ("This month", today.replace(day=1), today),
            ("This year", today.replace(month=1, day=1), today),
        ]
        current = (self.used_parameters.get(self.FROM), self.used_parameters.get(self.TO))
        for label, start, end in shortcuts:
            values = (start.isoformat(), end.isoformat()) if start else (None, None)
            yield {
                "selected": values == current,
                "display": label,
                "query_string": changelist.get_query_string(
                    {self.FROM: values[0], self.TO: values[1]} if start else {},
                    [self.FROM, self.TO, PAGE_VAR] if not start else [PAGE_VAR],
                ),
            }
