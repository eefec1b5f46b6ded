"""Alert conditions, checked every minute by beat (`config.tasks.check_alerts`).

Each condition reads the database and says whether it holds now; the app that owns what
is measured registers it in its AppConfig.ready (`register`): payments its payment,
webhook, dispute and reconciliation conditions, api the rate limits skipped while the
cache was down. Staff hear about a condition once when it starts to hold (e-mail to
STAFF_ALERT_EMAILS, an `ALERT ...` log line, an audit entry written by the recorder the
audit app registers with `on_notify`) and once when it stops ("cleared"), not at every
check. Which conditions are firing is remembered in the shared cache: `cache.add` /
`cache.delete` are atomic, so two overlapping checks cannot both send the same
notification. If the cache is flushed a condition that still holds is announced once more,
which is the safe side.

Thresholds are settings (ALERT_*), listed in README "Observability".
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

from observability import metrics

logger = logging.getLogger(__name__)

STATE_KEY = "alerts:firing:{}"


@dataclass(frozen=True)
class Reading:
    firing: bool
    summary: str
    details: dict = field(default_factory=dict)


Condition = Callable[[], Reading]
# (alert name, "firing" or "cleared", reading): e.g. the audit trail's entry.
Recorder = Callable[[str, str, Reading], None]

CONDITIONS: dict[str, Condition] = {}
_recorders: list[Recorder] = []


def register(name: str, condition: Condition) -> None:
    """Check `condition` every minute as alert `name` (registering a name again replaces it)."""
    CONDITIONS[name] = condition


def on_notify(recorder: Recorder) -> None:
    """Call `recorder` with every notification, after its log line, before its e-mail."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def _notify(name: str, reading: Reading, state: str) -> None:
    if state == "firing":
        logger.warning("ALERT %s: %s", name, reading.summary, extra={"alert": name})
        subject = f"[shop alert] {reading.summary}"
    else:
        logger.info("alert cleared %s: %s", name, reading.summary, extra={"alert": name})
        subject = f"[shop alert cleared] {name}: {reading.summary}"
    for recorder in _recorders:
        recorder(name, state, reading)
    metrics.count("alerts", alert=name, state=state)
    body = "\n".join(
        [reading.summary, "", *(f"{key}: {value}" for key, value in reading.details.items())]
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, settings.STAFF_ALERT_EMAILS)
    except Exception:  # the log line and the audit entry are there; the next state change mails
        logger.exception("alert e-mail for %s could not be sent", name)


def check(conditions: dict[str, Callable[[], Reading]] | None = None) -> dict[str, str]:
    """Evaluate every condition; notify the changes. Returns {name: what happened}."""
    outcome = {}
    for name, condition in (conditions or CONDITIONS).items():
        try:
            reading = condition()
        except Exception:
            logger.exception("alert condition %s could not be checked", name)
            outcome[name] = "error"
            continue
        try:
            outcome[name] = _transition(name, reading)
        except Exception:  # the cache is down: try again at the next check
            logger.exception("alert state for %s could not be updated", name)
            outcome[name] = "error"
    return outcome


def _transition(name: str, reading: Reading) -> str:
    """Notify when the condition changed since the last check; say what happened."""
    key = STATE_KEY.format(name)
    if reading.firing:
        if cache.add(key, timezone.now().isoformat(), timeout=None):
            _notify(name, reading, "firing")
            return "fired"
        return "still firing"
    if cache.delete(key):
        _notify(name, reading, "cleared")
        return "cleared"
    return "ok"


def firing_states() -> dict[str, bool]:
    keys = {STATE_KEY.format(name): name for name in CONDITIONS}
    try:
        found = cache.get_many(list(keys))
    except Exception:
        found = {}
    return {name: key in found for key, name in keys.items()}
