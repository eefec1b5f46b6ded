import time

from django.core.management.base import BaseCommand, CommandError

from payments.errors import StripeNotConfigured
from payments.gateway import client as stripe_client
from payments.reconciliation.run import run


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Compare local orders, payment attempts and refunds with Stripe (PaymentIntents, "
        "Checkout Sessions, Refunds, undelivered events) and print each mismatch. --fix "
        "applies Stripe's truth through the same state machines as webhooks. Prints each "
        "object as it is checked and a summary with the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=float,
            metavar="HOURS",
            help="look at payment attempts changed in the last HOURS (default: "
            "RECONCILE_WINDOW_HOURS, 24)",
        )
        parser.add_argument("--fix", action="store_true", help="apply Stripe's truth")
        parser.add_argument(
            "--limit",
            type=_positive_int,
            metavar="N",
            help="check at most N payment attempts and overdue orders (together, in id "
            "order); the rest is left for the next run",
        )

    def handle(self, *args, since=None, fix=False, limit=None, **options):
        if since is not None and since <= 0:
            raise CommandError("--since takes a number of hours above zero.")
        try:
            stripe_client.ensure_configured(log=False)
        except StripeNotConfigured as exc:
            raise CommandError(exc.detail) from exc
        started = time.monotonic()
        report = run(since_hours=since, fix=fix, limit=limit, progress=self.stdout.write)
        *details, summary = report.lines()
        for line in details:
            self.stdout.write(line)
        self.stdout.write(f"{summary[:-1]}; took {time.monotonic() - started:.1f}s.")
        if report.errors and not report.checked_attempts and not report.checked_events:
            raise CommandError("Stripe could not be read; nothing was compared.")
