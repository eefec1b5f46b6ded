from django.core.management.base import BaseCommand, CommandError

from payments.models import WebhookEvent
from payments.webhooks import processing
from payments.webhooks.replay import replay_events


class Command(BaseCommand):
    help = (
        "Process stored Stripe events again, idempotently. Without options: the events still "
        "waiting in 'received'. --failed: every failed event. --id: one event, whatever its "
        "state (its effects are applied at most once). A replayed event that fails again "
        "stays failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="replay every failed event")
        parser.add_argument("--id", dest="event_id", help="replay this Stripe event id (evt_...)")

    def handle(self, *args, failed=False, event_id=None, **options):
        if event_id or failed:
            events = WebhookEvent.objects.filter(
                **({"stripe_event_id": event_id} if event_id else {"status": "failed"})
            )
            if event_id and not events.exists():
                raise CommandError(f"No stored event {event_id}.")
            report = replay_events(events.values_list("pk", flat=True), force=bool(event_id))
            finished = report.replayed
        else:
            pks = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
            finished = []
            for pk in list(pks.order_by("stripe_created", "pk").values_list("pk", flat=True)):
                processing.process(pk)
                finished.append(WebhookEvent.objects.get(pk=pk))
        for event in finished:
            note = f" ({event.last_error})" if event.last_error else ""
            self.stdout.write(f"{event.stripe_event_id} {event.type}: {event.status}{note}")
        self.stdout.write(f"Replayed {len(finished)} event(s).")
