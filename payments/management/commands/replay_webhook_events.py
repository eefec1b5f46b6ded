import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from payments.models import WebhookEvent
from payments.webhooks import processing
from payments.webhooks.replay import replay_events


class Command(BaseCommand):
    help = (
        "Process stored Stripe events again, idempotently. Without options: the events still "
        "waiting in 'received'. --failed: every failed event. --id: one event, whatever its "
        "state (its effects are applied at most once). A replayed event that fails again "
        "stays failed. Prints each event as it is processed and a summary by outcome with "
        "the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="replay every failed event")
        parser.add_argument("--id", dest="event_id", help="replay this Stripe event id (evt_...)")

    def handle(self, *args, failed=False, event_id=None, **options):
        started = time.monotonic()
        outcomes: Counter = Counter()

        def show(position, total, event):
            outcomes[event.status] += 1
            note = f" ({event.last_error})" if event.last_error else ""
            done = f"{event.stripe_event_id} {event.type}: {event.status}{note}"
            self.stdout.write(f"[{position}/{total}] {done}")

        if event_id or failed:
            events = WebhookEvent.objects.filter(
                **({"stripe_event_id": event_id} if event_id else {"status": "failed"})
            )
            if event_id and not events.exists():
                raise CommandError(f"No stored event {event_id}.")
            pks = list(events.values_list("pk", flat=True))
            which = f"event {event_id}" if event_id else "failed event(s)"
            self.stdout.write(f"Replaying {len(pks)} {which}.")
            replay_events(pks, force=bool(event_id), progress=show)
        else:
            events = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
            pks = list(events.order_by("stripe_created", "pk").values_list("pk", flat=True))
            self.stdout.write(f"Replaying {len(pks)} event(s) still received.")
            for position, pk in enumerate(pks, start=1):
                processing.process(pk)
                show(position, len(pks), WebhookEvent.objects.get(pk=pk))
        by_outcome = ", ".join(
            f"{outcomes[status.value]} {status.value}" for status in WebhookEvent.Status
        )
        self.stdout.write(
            f"Replayed {len(pks)} event(s): {by_outcome}; took {time.monotonic() - started:.1f}s."
        )
