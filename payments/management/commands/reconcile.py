from django.core.management.base import BaseCommand, CommandError

from payments.reconciliation.run import run


class Command(BaseCommand):
    help = (
        "Compare local orders, payment attempts and refunds with Stripe (PaymentIntents, "
        "Checkout Sessions, Refunds, undelivered events) and print each mismatch. --fix "
        "applies Stripe's truth through the same state machines as webhooks."
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

    def handle(self, *args, since=None, fix=False, **options):
        if since is not None and since <= 0:
            raise CommandError("--since takes a number of hours above zero.")
        report = run(since_hours=since, fix=fix)
        for line in report.lines():
            self.stdout.write(line)
        if report.errors and not report.checked_attempts and not report.checked_events:
            raise CommandError("Stripe could not be read; nothing was compared.")
