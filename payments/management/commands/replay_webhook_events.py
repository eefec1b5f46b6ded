import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from payments.models import WebhookEvent
from payments.webhooks import processing


class Command(BaseCommand):
    help = (
        "Process stored Stripe events again, idempotently. Without options: the events still "
        "waiting in 'received'. --failed: every failed event. --id: one event, whatever its "
        "state (its effects are applied at most once). Prints each event as it is processed "
        "and a summary by outcome with the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="replay every failed event")
        parser.add_argument("--id", dest="event_id", help="replay this Stripe event id (evt_...)")

    def handle(self, *args, failed=False, event_id=None, **options):
        started = time.monotonic()
        if event_id:
            events = WebhookEvent.objects.filter(stripe_event_id=event_id)
            if not events.exists():
                raise CommandError(f"No stored event {event_id}.")
            events.update(status=WebhookEvent.Status.RECEIVED, next_attempt_at=None, attempts=0)
            which = f"event {event_id}"
        elif failed:
            events = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
            pks = list(events.values_list("pk", flat=True))
            processing.reopen(WebhookEvent.objects.filter(pk__in=pks))
            events = WebhookEvent.objects.filter(pk__in=pks)
            which = "failed event(s)"
        else:
            events = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
            which = "event(s) still received"

        pks = list(events.order_by("stripe_created", "pk").values_list("pk", flat=True))
        self.stdout.write(f"Replaying {len(pks)} {which}.")
        outcomes: Counter = Counter()
        for position, pk in enumerate(pks, start=1):
            processing.process(pk)
            event = WebhookEvent.objects.get(pk=pk)
            outcomes[event.status] += 1
            note = f" ({event.last_error})" if event.last_error else ""
            done = f"{event.stripe_event_id} {event.type}: {event.status}{note}"
            self.stdout.write(f"[{position}/{len(pks)}] {done}")
        by_outcome = ", ".join(
            f"{outcomes[status.value]} {status.value}" for status in WebhookEvent.Status
        )
        self.stdout.write(
            f"Replayed {len(pks)} event(s): {by_outcome}; took {time.monotonic() - started:.1f}s."
        )
