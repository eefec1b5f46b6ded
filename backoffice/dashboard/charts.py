"""Charts as inline SVG, drawn on the server.

No chart library and no script: the admin's Content-Security-Policy allows scripts from
'self' only, and a chart that is markup needs none. Every bar is a link to the list it
counts, carries a <title> (the browser's tooltip, and what a screen reader says), and its
colours come from backoffice/dashboard.css. Text in the SVG goes through format_html, so
it is escaped like any other admin text.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 360, 150
TOP, BOTTOM = 18, 22  # room for the value above a bar and the label below it


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar ("Mon 24")
    value: int  # its height, relative to the tallest bar
    shown: str  # above the bar ("61.00 USD", "3")
    href: str  # the filtered list
    title: str  # tooltip: what the bar counts, in a sentence
    tone: str = ""  # a CSS class: "bad", "warn"


def bar_chart(bars: list[Bar], caption: str) -> SafeString:
    """Vertical bars, one per entry, scaled to the tallest."""
    if not bars:
        return format_html("<p>{}</p>", "Nothing yet.")
    top = max((bar.value for bar in bars), default=0) or 1
    slot = WIDTH / len(bars)
    width = slot * 0.7
    room = HEIGHT - TOP - BOTTOM
    parts = []
    for n, bar in enumerate(bars):
        height = round(room * bar.value / top, 1) if bar.value else 0
        x = round(n * slot + (slot - width) / 2, 1)
        y = round(TOP + room - height, 1)
        middle = round(n * slot + slot / 2, 1)
        parts.append(
            (
                bar.href,
                bar.title,
                f"bar {bar.tone}".strip(),
                x,
                y,
                round(width, 1),
                max(height, 1),
                middle,
                max(y - 4, 10),
                bar.shown,
                middle,
                HEIGHT - 6,
                bar.label,
            )
        )
    body = format_html_join(
        "",
        '<a href="{}"><title>{}</title><rect class="{}" x="{}" y="{}" width="{}" height="{}"/>'
        '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text></a>',
        parts,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        WIDTH,
        HEIGHT,
        caption,
        body,
    )


def split_bar(good: int, bad: int, good_href: str, bad_href: str, caption: str) -> SafeString:
    """One horizontal bar: `good` (succeeded) beside `bad` (failed), with the share."""
    total = good + bad
    if not total:
        return format_html("<p>{}</p>", "No payment attempts.")
    good_width = round(WIDTH * good / total, 1)
    return format_html(
        '<svg class="chart split" viewBox="0 0 {} 40" role="img" aria-label="{}">'
        '<a href="{}"><title>{} succeeded</title>'
        '<rect class="bar" x="0" y="4" width="{}" height="24"/></a>'
        '<a href="{}"><title>{} failed</title>'
        '<rect class="bar bad" x="{}" y="4" width="{}" height="24"/></a></svg>',
        WIDTH,
        caption,
        good_href,
        good,
        good_width,
        bad_href,
        bad,
        good_width,
        round(WIDTH - good_width, 1),
    )
