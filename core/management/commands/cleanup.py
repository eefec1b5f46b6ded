"""Expire unpaid orders past their reservation, purge old idempotency keys and prune
handled webhook events: the jobs each app registers with core.housekeeping. Beat runs the same
thing every 5 minutes (config.tasks.cleanup, in core.tasks)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from core.housekeeping import run_cleanup


class Command(BaseCommand):
    help = (
        "Expire unpaid orders past their reservation (stock released, open Stripe payments "
        "closed), purge expired idempotency keys, prune handled webhook events past retention. "
        "Prints each job as it runs and a summary of the counts with the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be done; change nothing and call nobody (Stripe included).",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        started = time.monotonic()
        if not dry_run and not getattr(settings, "STRIPE_SECRET_KEY", ""):
            self.stdout.write(
                "Note: STRIPE_SECRET_KEY is not set, so an overdue order with a payment open at "
                "Stripe cannot be closed there; it is left for the next run."
            )
        report = run_cleanup(dry_run=dry_run, progress=self.stdout.write)
        for line in report.lines():
            self.stdout.write(line)
        counts = {k: n for k, n in report.counts().items() if k != "dry_run"}
        counted = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
        took = f"{time.monotonic() - started:.1f}s"
        if dry_run:
            self.stdout.write(f"Dry run done in {took}, nothing changed; it would be: {counted}.")
        else:
            self.stdout.write(f"Cleanup done in {took}: {counted}.")
