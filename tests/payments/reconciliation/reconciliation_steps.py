"""What the reconciliation tests share: running `manage.py reconcile` as an operator
would (after-commit callbacks run, as a real commit would run them), the open mismatches,
and Stripe holding a payment the shop never heard of."""

import io

from django.core.management import call_command

from payments.models import ReconciliationMismatch

# Set before each test by this folder's conftest.py.
_capture = None


def use_commit_capture(capture) -> None:
    global _capture
    _capture = capture


def reconcile(*args) -> str:
    out = io.StringIO()
    with _capture(execute=True):
        call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def open_mismatches():
    return list(
        ReconciliationMismatch.objects.filter(resolved_at__isnull=True).values_list(
            "kind", "subject"
        )
    )


def succeed_at_stripe(stripe_fake, attempt, amount=None):
    """The shopper paid, but Stripe's webhook never reached us."""
    intent = stripe_fake.objects[attempt.stripe_payment_intent_id]
    intent.update(
        status="succeeded",
        amount_received=attempt.amount if amount is None else amount,
        latest_charge="ch_paid",
    )
    return intent
