"""`manage.py reconcile` as an operator runs it: progress per object, a summary with the time
taken, `--limit`, and a clear refusal when there is no Stripe to compare with."""

import re

import pytest
from django.core.management import CommandError

from payments.models import ReconciliationMismatch
from tests.payments.reconciliation.reconciliation_steps import (
    open_mismatches,
    reconcile,
    succeed_at_stripe,
)

pytestmark = pytest.mark.django_db
Kind = ReconciliationMismatch.Kind


def test_progress_per_object_and_a_summary_with_the_time_taken(start_payment, stripe_fake):
    first, second = start_payment(), start_payment()
    succeed_at_stripe(stripe_fake, second)

    out = reconcile()

    assert "Checking 2 payment attempt(s) and 0 overdue order(s) since " in out
    assert "undelivered events at Stripe: 0, ok" in out
    assert f"[1/2] payment attempt {first.pk} ({first.stripe_payment_intent_id}): ok" in out
    assert (
        f"[2/2] payment attempt {second.pk} ({second.stripe_payment_intent_id}): 1 mismatch(es)"
        in out
    )
    summary = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"Checked 2 payment attempt\(s\), 0 overdue order\(s\) and 0 undelivered event\(s\) "
        r"since \S+: 1 mismatch\(es\), 0 fixed, 1 open, 0 error\(s\); took \d+\.\ds\.",
        summary,
    ), summary
    assert open_mismatches() == [(Kind.PAID_AT_STRIPE, second.stripe_payment_intent_id)]


def test_limit_checks_at_most_n_objects_and_says_how_many_were_left(start_payment, stripe_fake):
    attempts = [start_payment() for _ in range(3)]
    succeed_at_stripe(stripe_fake, attempts[2])  # the one past the limit
    stripe_fake.requests.clear()

    out = reconcile("--limit", "2")

    assert "Checking 2 payment attempt(s) and 0 overdue order(s)" in out
    assert "(1 left by the limit)" in out.strip().splitlines()[-1]
    assert "[3/" not in out
    asked = {r.path.rsplit("/", 1)[-1] for r in stripe_fake.sent("GET", "/v1/payment_intents/")}
    assert asked == {a.stripe_payment_intent_id for a in attempts[:2]}
    assert open_mismatches() == []  # the third was not looked at

    reconcile()  # no limit: the third is found
    assert open_mismatches() == [(Kind.PAID_AT_STRIPE, attempts[2].stripe_payment_intent_id)]


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_limit_must_be_a_positive_number(value):
    with pytest.raises(CommandError, match="--limit"):
        reconcile("--limit", value)


def test_without_a_stripe_key_it_says_which_variable_to_set(start_payment, stripe_fake, settings):
    start_payment()
    stripe_fake.requests.clear()
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_EMULATOR_STOPPED = ""

    with pytest.raises(CommandError) as refused:
        reconcile()

    assert "STRIPE_SECRET_KEY is not set" in str(refused.value)
    assert "in .env" in str(refused.value) and "make run" in str(refused.value)
    assert stripe_fake.requests == [] and open_mismatches() == []


def test_after_make_run_stopped_it_names_the_emulator_that_is_gone(settings, db):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_EMULATOR_STOPPED = "http://127.0.0.1:40999"

    with pytest.raises(CommandError) as refused:
        reconcile()

    assert str(refused.value).startswith(
        "The Stripe emulator at http://127.0.0.1:40999 is not running (make run stopped)"
    )
