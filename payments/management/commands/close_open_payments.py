from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.checkout import declines
from payments.errors import StripeNotConfigured
from payments.gateway import client as stripe_client


class Command(BaseCommand):
    help = (
        "Cancel every open PaymentIntent and expire every open Checkout Session at Stripe, "
        "now: the kill switch's immediate action (with PAYMENTS_ENABLED=false beat does the "
        "same every minute). Payments Stripe already took are still recorded by the webhook. "
        "Exit 1 when some could not be closed (run it again)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be closed, call nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        if settings.PAYMENTS_ENABLED:
            self.stderr.write(
                "PAYMENTS_ENABLED is on: shoppers can start new payments after this runs."
            )
        if dry_run:
            for attempt in declines.open_at_stripe():
                self.stdout.write(f"would close {attempt} ({attempt.stripe_id})")
            return
        try:
            stripe_client.ensure_configured(log=False)
        except StripeNotConfigured as exc:
            raise CommandError(exc.detail) from exc
        closed, failed = declines.close_all_open()
        self.stdout.write(f"{closed} closed, {failed} could not be closed")
        if failed:
            raise CommandError(f"{failed} payment(s) could not be closed at Stripe; run again.")
