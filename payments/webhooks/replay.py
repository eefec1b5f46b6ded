"""Staff (the admin's action, `manage.py replay_webhook_events`) replaying stored events.

Only failed or ignored events replay; a processed or waiting one is skipped and said so.
Each replayed event gets one try (`processing.process(..., last_try=True)`): applied, it is
processed; failing again, it is failed with its new error, never left "received" for the
automatic retries where the person who replayed it would lose sight of it.
"""

from dataclasses import dataclass, field

from payments.models import WebhookEvent
from payments.webhooks import processing

REPLAYABLE = [WebhookEvent.Status.FAILED, WebhookEvent.Status.IGNORED]


@dataclass
class ReplayReport:
    replayed: list[WebhookEvent] = field(default_factory=list)  # as they ended up
    skipped: list[WebhookEvent] = field(default_factory=list)  # as they were

    def message(self) -> str:
        """e.g. "Replayed 1 event(s): evt_1 processed. Skipped 1: only failed or ignored
        events replay (evt_2 is processed)." """
        outcomes = ", ".join(
            f"{e.stripe_event_id} {e.status}"
            + (f" ({e.last_error[:120]})" if e.status != WebhookEvent.Status.PROCESSED else "")
            for e in self.replayed
        )
        text = f"Replayed {len(self.replayed)} event(s)" + (f": {outcomes}." if outcomes else ".")
        if self.skipped:
            which = ", ".join(f"{e.stripe_event_id} is {e.status}" for e in self.skipped)
            text += f" Skipped {len(self.skipped)}: only failed or ignored events replay ({which})."
        return text


def replay_events(pks, *, force: bool = False, progress=None) -> ReplayReport:
    """Replay the events with these ids, oldest first. `force`: whatever their status (the
    command's --id; a processed event's effects are still applied only once). `progress`,
    when given, is called after each event with (position, total, the event as it ended)."""
    report = ReplayReport()
    events = WebhookEvent.objects.filter(pk__in=list(pks)).order_by("stripe_created", "pk")
    chosen = []
    for event in events:
        if force or event.status in REPLAYABLE:
            chosen.append(event.pk)
        else:
            report.skipped.append(event)
    WebhookEvent.objects.filter(pk__in=chosen).update(
        status=WebhookEvent.Status.RECEIVED, next_attempt_at=None, attempts=0
    )
    for position, pk in enumerate(chosen, start=1):
        processing.process(pk, last_try=True)
        if progress:
            progress(position, len(chosen), WebhookEvent.objects.get(pk=pk))
    finished = WebhookEvent.objects.in_bulk(chosen)
    report.replayed = [finished[pk] for pk in chosen]
    return report
