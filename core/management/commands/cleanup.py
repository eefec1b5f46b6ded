"""Expire unpaid orders past their reservation, purge old idempotency keys and prune
handled webhook events: the jobs each app registers with core.housekeeping. Beat runs the same
thing every 5 minutes (config.tasks.cleanup, in core.tasks)."""

from django.core.management.base import BaseCommand

from core.housekeeping import run_cleanup


class Command(BaseCommand):
    help = (
        "Expire unpaid orders past their reservation (stock released, open Stripe payments "
        "closed), purge expired idempotency keys, prune handled webhook events past retention."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be done; change nothing and call nobody (Stripe included).",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        report = run_cleanup(dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
