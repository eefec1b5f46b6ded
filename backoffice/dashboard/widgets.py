"""The dashboard's widgets: each needs the view permission on its model, asks its selector
only when the staff member may see it, and links every number to the filtered list."""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.safestring import SafeString

from backoffice.dashboard import selectors
from backoffice.dashboard.charts import Bar, bar_chart, split_bar
from catalog.money import format_amount
from payments.models import AttemptStatus, ReconciliationMismatch


@dataclass
class Line:
    text: str
    href: str = ""


@dataclass
class Widget:
    key: str
    title: str
    href: str  # the whole list behind the widget
    lines: list[Line] = field(default_factory=list)
    charts: list[tuple[str, SafeString]] = field(default_factory=list)  # (caption, svg)


def changelist(model: str, **query) -> str:
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def volume(p: selectors.Period) -> Widget:
    paid = ",".join(selectors.PAID_STATES)
    week = changelist("orders.order", status__in=paid, created_at__gte=str(p.week))
    widget = Widget("volume", "Paid orders, last 7 days", week)
    data = selectors.paid_volume(p)
    if not data:
        widget.lines.append(Line("No paid orders in the last 7 days."))
    for currency, days in sorted(data.items()):
        today_orders, today_total = days.get(p.today.date(), (0, 0))
        week_orders = sum(n for n, _ in days.values())
        week_total = sum(total for _, total in days.values())
        widget.lines.append(
            Line(
                f"{currency.upper()}: today {format_amount(today_total, currency)} "
                f"({today_orders} orders), 7 days {format_amount(week_total, currency)} "
                f"({week_orders} orders)",
                changelist(
                    "orders.order", status__in=paid, currency=currency, created_at__gte=str(p.week)
                ),
            )
        )
        bars = []
        for day in p.days:
            orders, total = days.get(day, (0, 0))
            start = p.start_of(day)
            shown = format_amount(total, currency).rsplit(" ", 1)[0] if total else ""
            bars.append(
                Bar(
                    label=f"{day:%a %d}",
                    value=total,
                    shown=shown,
                    href=changelist(
                        "orders.order",
                        status__in=paid,
                        currency=currency,
                        created_at__gte=str(start),
                        created_at__lt=str(start + timedelta(days=1)),
                    ),
                    title=f"{day:%a %d %b}: {orders} paid orders, {format_amount(total, currency)}",
                )
            )
        caption = f"Paid orders per day in {currency.upper()}"
        widget.charts.append((caption, bar_chart(bars, caption)))
    return widget


def success_rate(p: selectors.Period) -> Widget:
    counts = selectors.attempt_outcomes(p)
    widget = Widget("payments", "Payment success rate", changelist("payments.paymentattempt"))
    for span, since in (("today", p.today), ("week", p.week)):
        good, bad = counts[f"succeeded_{span}"], counts[f"failed_{span}"]
        rate = f"{100 * good / (good + bad):.1f} %" if good + bad else "-"
        label = "Today" if span == "today" else "Last 7 days"
        links = {
            status: changelist(
                "payments.paymentattempt", status__exact=status, created_at__gte=str(since)
            )
            for status in (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED)
        }
        widget.lines.append(
            Line(f"{label}: {rate} ({good} succeeded, {bad} failed)", links[AttemptStatus.FAILED])
        )
        caption = f"{label}: succeeded and failed payment attempts"
        widget.charts.append(
            (
                caption,
                split_bar(
                    good, bad, links[AttemptStatus.SUCCEEDED], links[AttemptStatus.FAILED], caption
                ),
            )
        )
    return widget


def refunds(p: selectors.Period) -> Widget:
    week = changelist("payments.refund", created_at__gte=str(p.week))
    widget = Widget("refunds", "Refunds, last 7 days", week)
    data = selectors.refunds_this_week(p)
    if not data:
        widget.lines.append(Line("No refunds in the last 7 days."))
    for currency, row in data.items():
        failed = f", {row['failed']} failed or canceled" if row["failed"] else ""
        widget.lines.append(
            Line(
                f"{currency.upper()}: {row['count']} refunds, "
                f"{format_amount(row['amount'], currency)}{failed}",
                changelist(
                    "payments.refund", currency__exact=currency, created_at__gte=str(p.week)
                ),
            )
        )
    return widget


def disputes(p: selectors.Period) -> Widget:
    counts = selectors.open_disputes_by_due_date(p)
    widget = Widget(
        "disputes",
        "Open disputes by evidence due date",
        changelist("payments.dispute", evidence="open"),
    )
    total = sum(counts.values())
    widget.lines.append(Line(f"{total} open, {counts['overdue']} overdue", widget.href))
    bars = []
    for key, label, start, end in selectors.DUE_BUCKETS:
        query = {"evidence": "open"}
        if start is not None:
            query["evidence_due_by__gte"] = str(p.now + timedelta(days=start))
        if end is not None:
            query["evidence_due_by__lt"] = str(p.now + timedelta(days=end))
        bars.append(
            Bar(
                label=label,
                value=counts[key],
                shown=str(counts[key]),
                href=changelist("payments.dispute", **query),
                title=f"{counts[key]} open disputes with evidence due {label}",
                tone="bad" if key == "overdue" else ("warn" if key == "1d" else ""),
            )
        )
    if counts["no_date"]:
        widget.lines.append(Line(f"{counts['no_date']} without a due date"))
    caption = "Open disputes by evidence due date"
    widget.charts.append((caption, bar_chart(bars, caption)))
    return widget


def webhook_failures(p: selectors.Period) -> Widget:
    data = selectors.failed_webhook_events(p)
    failed = changelist("payments.webhookevent", status__exact="failed")
    widget = Widget("webhooks", "Failed webhook events", failed)
    widget.lines.append(Line(f"{data['total']} failed events in all", failed))
    bars = []
    for day in p.days:
        start = p.start_of(day)
        n = data["per_day"].get(day, 0)
        bars.append(
            Bar(
                label=f"{day:%a %d}",
                value=n,
                shown=str(n) if n else "",
                href=changelist(
                    "payments.webhookevent",
                    status__exact="failed",
                    received_at__gte=str(start),
                    received_at__lt=str(start + timedelta(days=1)),
                ),
                title=f"{day:%a %d %b}: {n} failed events received",
                tone="bad",
            )
        )
    caption = "Failed webhook events per day received"
    widget.charts.append((caption, bar_chart(bars, caption)))
    return widget


def mismatches(p: selectors.Period) -> Widget:
    counts = selectors.open_mismatches(p)
    open_ = changelist("payments.reconciliationmismatch", state="open")
    widget = Widget("mismatches", "Open reconciliation mismatches", open_)
    widget.lines.append(Line(f"{sum(counts.values())} open", open_))
    labels = dict(ReconciliationMismatch.Kind.choices)
    for kind, n in counts.items():
        widget.lines.append(
            Line(
                f"{labels.get(kind, kind)}: {n}",
                changelist("payments.reconciliationmismatch", state="open", kind__exact=kind),
            )
        )
    return widget


# (permission, builder): a widget is built only for staff who may view its model.
WIDGETS = [
    ("orders.view_order", volume),
    ("payments.view_paymentattempt", success_rate),
    ("payments.view_refund", refunds),
    ("payments.view_dispute", disputes),
    ("payments.view_webhookevent", webhook_failures),
    ("payments.view_reconciliationmismatch", mismatches),
]


def widgets_for(user, now=None) -> list[Widget]:
    p = selectors.period(now)
    return [build(p) for permission, build in WIDGETS if user.has_perm(permission)]
