from django.core.management.base import BaseCommand, CommandError

from payments.models import WebhookEvent
from payments.webhooks import processing


class Command(BaseCommand):
    help = (
        "Process stored Stripe events again, idempotently. Without options: the events still "
        "waiting in 'received'. --failed: every failed event. --id: one event, whatever its "
        "state (its effects are applied at most once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="replay every failed event")
        parser.add_argument("--id", dest="event_id", help="replay this Stripe event id (evt_...)")

    def handle(self, *args, failed=False, event_id=None, **options):
        if event_id:
            events = WebhookEvent.objects.filter(stripe_event_id=event_id)
            if not events.exists():
                raise CommandError(f"No stored event {event_id}.")
            events.update(status=WebhookEvent.Status.RECEIVED, next_attempt_at=None, attempts=0)
        elif failed:
            events = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
            pks = list(events.values_list("pk", flat=True))
            processing.reopen(WebhookEvent.objects.filter(pk__in=pks))
            events = WebhookEvent.objects.filter(pk__in=pks)
        else:
            events = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)

        count = 0
        for pk in list(events.order_by("stripe_created", "pk").values_list("pk", flat=True)):
            processing.process(pk)
            event = WebhookEvent.objects.get(pk=pk)
            note = f" ({event.last_error})" if event.last_error else ""
            self.stdout.write(f"{event.stripe_event_id} {event.type}: {event.status}{note}")
            count += 1
        self.stdout.write(f"Replayed {count} event(s).")
