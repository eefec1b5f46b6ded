"""Refused requests that anybody can send in bulk, audited per client and window, not per hit.

A forged-delivery flood wrote one audit row per delivery (600 a minute per address, what
the rate limit lets through). The trail is append-only, so a row cannot be turned into a
counter; the count lives in the cache instead:

- the first refusal of a (action, code, client address) in a window of
  `AUDIT_REJECTION_WINDOW_SECONDS` (default 60) writes a row at once, `count` 1, so a
  single forged delivery is visible immediately;
- the others in that window only increment a cache counter;
- once the window has ended, one summary row carries the rest (`count` = total - 1,
  `total`), written by the next refusal from the same client and code, or by the beat
  job `audit.tasks.summarize_rejections` (every minute), whichever comes first (a
  `cache.add` marker makes it exactly one).

So a window holds at most two rows per client and code, and summing `details.count` over
rows gives every refusal. Both rows name the window (`window_start`, `window_seconds`) and
the client. If the cache cannot be reached, every refusal is written as its own row (the
trail is never short), and if the cache lost a counter before its summary, the summary is
missing and the metric (`webhook_deliveries_rejected`) still has the number.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record
from core.client_address import UNKNOWN

logger = logging.getLogger(__name__)

# Counters outlive their window long enough for the beat job to summarise them.
_GRACE_SECONDS = 600


def _window_seconds() -> int:
    return max(1, int(settings.AUDIT_REJECTION_WINDOW_SECONDS))


def _key(action: str, code: str, address: str, window: int) -> str:
    return f"audit:rejections:{action}:{code}:{address}:{window}"


def _ip(address: str) -> str | None:
    return None if address == UNKNOWN else address


def record_rejection(action: str, *, code: str, address: str, actor_label: str = "") -> None:
    """Audit one refusal of `action` with `code` from `address`, aggregated (module doc)."""
    seconds = _window_seconds()
    now = timezone.now().timestamp()
    window = int(now // seconds)
    key = _key(action, code, address, window)
    try:
        cache.add(key, 0, timeout=seconds + _GRACE_SECONDS)
        seen = cache.incr(key)
    except Exception as exc:  # no cache: one row per refusal rather than none
        logger.warning("rejection counter unavailable (%s); auditing each", type(exc).__name__)
        seen = None
    if seen is None or seen == 1:
        record(
            action,
            actor_label=actor_label,
            outcome=AuditEntry.Outcome.REFUSED,
            ip_address=_ip(address),
            details={
                "code": code,
                "count": 1,
                "client_address": address,
                "window_start": _iso(window * seconds),
                "window_seconds": seconds,
                "aggregated": seen is not None,
            },
        )
        if seen is not None:  # the same client's previous window, if nobody summarised it
            _summarize(action, code, address, window - 1, seconds, actor_label)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def _summarize(
    action: str, code: str, address: str, window: int, seconds: int, actor_label: str
) -> bool:
    """Write the summary row of one ended window once; False when there is nothing to add."""
    key = _key(action, code, address, window)
    try:
        total = cache.get(key)
        if not total or total <= 1:
            return False
        if not cache.add(f"{key}:summarized", 1, timeout=seconds + _GRACE_SECONDS):
            return False  # somebody else wrote it
    except Exception as exc:
        logger.warning("rejection summary skipped: cache unavailable (%s)", type(exc).__name__)
        return False
    record(
        action,
        actor_label=actor_label,
        outcome=AuditEntry.Outcome.REFUSED,
        ip_address=_ip(address),
        details={
            "code": code,
            "count": total - 1,
            "total": total,
            "client_address": address,
            "window_start": _iso(window * seconds),
            "window_seconds": seconds,
            "aggregated": True,
            "summary": True,
        },
    )
    return True


def summarize_ended_windows(now: datetime | None = None) -> int:
    """Write the summary row of every window that has ended (the beat job); returns how many.

    The windows to look at are those whose first row is in the trail and whose counter can
    still be in the cache.
    """
    now = now or timezone.now()
    seconds = _window_seconds()
    current = int(now.timestamp() // seconds)
    since = now - timedelta(seconds=2 * seconds + _GRACE_SECONDS)
    firsts = (
        AuditEntry.objects.filter(
            created_at__gte=since, outcome=AuditEntry.Outcome.REFUSED, details__aggregated=True
        )
        .exclude(details__has_key="summary")
        .values_list("action", "actor_label", "details")
    )
    written = 0
    for action, actor_label, details in firsts.iterator():
        try:
            start = datetime.fromisoformat(details["window_start"]).timestamp()
            window = int(start // details["window_seconds"])
        except (KeyError, TypeError, ValueError):
            continue
        if details["window_seconds"] != seconds or window >= current:
            continue  # still open (or written under another window length)
        written += _summarize(
            action, details["code"], details["client_address"], window, seconds, actor_label
        )
    return written


def total(action: str, codes: list[str], since: datetime) -> int:
    """How many refusals of `action` with one of `codes` the trail holds since `since`,
    counting windows still open from the cache (alerts must not wait for the summary)."""
    rows = AuditEntry.objects.filter(
        action=action, created_at__gte=since, details__code__in=codes
    ).values_list("details", flat=True)
    windows: dict[tuple, int] = {}
    loose = 0
    for details in rows.iterator():
        details = details or {}
        if not details.get("aggregated"):
            loose += int(details.get("count", 1))
            continue
        try:
            start = datetime.fromisoformat(details["window_start"]).timestamp()
            window = (details["code"], details["client_address"], start, details["window_seconds"])
        except (KeyError, TypeError, ValueError):
            loose += int(details.get("count", 1))
            continue
        if details.get("summary"):
            windows[window] = max(windows.get(window, 0), int(details.get("total", 1)))
        else:
            windows.setdefault(window, 1)
            try:
                live = cache.get(_key(action, window[0], window[1], int(start // window[3])))
            except Exception:
                live = None
            if live:
                windows[window] = max(windows[window], int(live))
    return loose + sum(windows.values())
