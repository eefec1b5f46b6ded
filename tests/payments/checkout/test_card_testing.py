"""Card testing: declines counted from Stripe's events, limits per shopper, address, card
and attempt, whatever the order or repetition of the events."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from payments.handlers import registry
from payments.models import PaymentAttempt, PaymentDecline
from tests import stripe_events as se
from tests.conftest import error_code
from tests.factories import OrderFactory, UserFactory
from tests.payments.checkout.card_testing import (
    CARDS,
    ELSEWHERE,
    HOME,
    closed_at_stripe,
    decline,
    fresh,
    new_order,
    open_payment,
    start,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("card_testing_limits")]


class TestDeclinesCountFromStripeEvents:
    def test_declines_at_stripe_alone_trip_the_limit_and_close_the_shoppers_payments(
        self, api, user, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_HOUR = 3
        intent = open_payment(api)
        session = open_payment(api, kind="checkout-session")
        # The card tester confirms straight at Stripe with the client secret: only
        # Stripe's events tell us, no request of ours comes in between.
        for _ in range(2):
            send_event(decline(intent))
        assert closed_at_stripe(stripe_fake) == set()

        send_event(decline(intent))

        assert closed_at_stripe(stripe_fake) == {
            intent.stripe_payment_intent_id,
            session.stripe_checkout_session_id,
        }
        assert fresh(intent).status == "canceled"
        assert fresh(session).status == "canceled"
        refused = start(api, new_order(api))
        assert refused.status_code == 429
        assert error_code(refused) == "too_many_failed_payments"
        assert 3500 <= int(refused["Retry-After"]) <= 3600
        entry = AuditEntry.objects.filter(
            action="payment_attempt.create", outcome="refused"
        ).latest("pk")
        assert entry.actor == user and entry.details["reason"] == "velocity"
        assert entry.details["limit"] == "shopper"

    def test_checkout_async_failures_count_too(self, api, stripe_fake, send_event, settings):
        settings.PAYMENT_FAILURES_PER_HOUR = 2
        session = open_payment(api, kind="checkout-session")
        for _ in range(2):
            send_event(
                se.event(
                    "checkout.session.async_payment_failed",
                    se.checkout_session(session, status="complete", payment_status="unpaid"),
                )
            )
        assert PaymentDecline.objects.count() == 2
        assert session.stripe_checkout_session_id in closed_at_stripe(stripe_fake)
        assert error_code(start(api, new_order(api))) == "too_many_failed_payments"

    def test_every_failure_counts_even_on_a_failed_or_closed_attempt(
        self, api, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_HOUR = 3
        attempt = open_payment(api)
        send_event(decline(attempt))
        assert fresh(attempt).status == "failed"
        send_event(decline(attempt))  # the same PaymentIntent fails again
        PaymentAttempt.objects.filter(pk=attempt.pk).update(status="canceled")
        send_event(decline(attempt))  # reported late, after we closed it
        assert PaymentDecline.objects.filter(attempt=attempt).count() == 3
        assert start(api, new_order(api)).status_code == 429

    def test_a_duplicate_delivery_counts_once(self, api, stripe_fake, send_event, settings):
        settings.PAYMENT_FAILURES_PER_HOUR = 2
        attempt = open_payment(api)
        event = decline(attempt)
        for _ in range(3):
            assert send_event(event).status_code == 200
        assert PaymentDecline.objects.count() == 1
        assert closed_at_stripe(stripe_fake) == set()
        assert start(api, new_order(api)).status_code == 201

    def test_declines_older_than_an_hour_do_not_count(self, api, stripe_fake, send_event, settings):
        settings.PAYMENT_FAILURES_PER_HOUR = 2
        attempt = open_payment(api)
        old = int((timezone.now() - timedelta(minutes=61)).timestamp())
        send_event(decline(attempt, created=old))
        send_event(decline(attempt))
        assert closed_at_stripe(stripe_fake) == set()
        assert start(api, new_order(api)).status_code == 201


class TestKeys:
    def test_another_shopper_at_the_same_address_is_blocked(
        self, api, shopper, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR = 3
        first = open_payment(api, address=HOME)
        _, other = shopper()
        others_open = open_payment(other, address=HOME)
        for _ in range(3):
            send_event(decline(first, fingerprint=f"fp{next(CARDS)}"))

        # Every open payment made from that address is closed, the other shopper's too.
        assert closed_at_stripe(stripe_fake) == {
            first.stripe_payment_intent_id,
            others_open.stripe_payment_intent_id,
        }
        refused = start(other, new_order(other, HOME), address=HOME)
        assert refused.status_code == 429
        assert error_code(refused) == "too_many_failed_payments"
        entry = AuditEntry.objects.filter(outcome="refused").latest("pk")
        assert entry.details["limit"] == "address"
        # The same shopper elsewhere is not that address.
        assert start(other, new_order(other, ELSEWHERE), address=ELSEWHERE).status_code == 201

    def test_the_attempt_records_the_client_address_behind_a_trusted_proxy(
        self, api, stripe_fake, settings
    ):
        settings.TRUSTED_PROXIES = ["10.0.0.1"]
        order_id = new_order(api)
        response = api.post_idem(
            f"/api/v1/orders/{order_id}/payment-intent/",
            {},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="192.0.2.44",
        )
        assert response.status_code == 201
        assert PaymentAttempt.objects.get(order_id=order_id).client_address == "192.0.2.44"

    def test_one_card_across_two_shoppers_trips(
        self, api, shopper, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_CARD_PER_HOUR = 3
        first = open_payment(api, address=HOME)
        _, second = shopper()
        theirs = open_payment(second, address=ELSEWHERE)
        send_event(decline(first, fingerprint="fpStolen"))
        send_event(decline(first, fingerprint="fpStolen"))
        assert closed_at_stripe(stripe_fake) == set()

        send_event(decline(theirs, fingerprint="fpStolen"))

        assert closed_at_stripe(stripe_fake) == {
            first.stripe_payment_intent_id,
            theirs.stripe_payment_intent_id,
        }
        for client, address in ((api, "192.0.2.1"), (second, "192.0.2.2")):
            refused = start(client, new_order(client, address), address=address)
            assert refused.status_code == 429, refused.content
            assert error_code(refused) == "too_many_failed_payments"
        assert AuditEntry.objects.filter(outcome="refused").latest("pk").details["limit"] == "card"

    def test_declines_without_a_fingerprint_share_no_card_key(
        self, api, shopper, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_CARD_PER_HOUR = 1
        attempt = open_payment(api)
        failed = se.payment_intent(
            attempt,
            status="requires_payment_method",
            error={"type": "card_error", "code": "card_declined", "message": "Declined."},
        )
        send_event(se.event("payment_intent.payment_failed", failed))
        assert PaymentDecline.objects.get().card_fingerprint == ""
        assert start(api, new_order(api)).status_code == 201


class TestPerAttemptCap:
    def test_an_attempt_is_closed_at_stripe_after_its_cap_and_a_new_one_can_start(
        self, api, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_ATTEMPT = 2
        attempt = open_payment(api)
        other = open_payment(api)
        send_event(decline(attempt))
        assert closed_at_stripe(stripe_fake) == set()

        send_event(decline(attempt))

        assert closed_at_stripe(stripe_fake) == {attempt.stripe_payment_intent_id}
        assert fresh(attempt).status == "canceled"
        assert fresh(other).status == "requires_payment"  # only that attempt
        again = start(api, attempt.order_id)
        assert again.status_code == 201
        assert again.json()["payment_intent_id"] != attempt.stripe_payment_intent_id

    def test_an_attempt_at_its_cap_is_not_handed_out_again(
        self, api, stripe_fake, send_event, settings, django_capture_on_commit_callbacks
    ):
        # Even before the closing task has run, the client secret of a capped attempt is
        # never given out again.
        settings.PAYMENT_FAILURES_PER_ATTEMPT = 1
        attempt = open_payment(api)
        from payments.webhooks.inbox import store_event
        from payments.webhooks.processing import process

        pk, _ = store_event(decline(attempt))
        with django_capture_on_commit_callbacks(execute=False):
            process(pk)
        again = start(api, attempt.order_id)
        assert again.status_code == 201
        assert again.json()["payment_intent_id"] != attempt.stripe_payment_intent_id
        assert attempt.stripe_payment_intent_id in closed_at_stripe(stripe_fake)


# --- property: any order or repetition of failure events counts the same ----------------
_serial = itertools.count()


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(4)), repeats=st.lists(st.integers(0, 3), max_size=6))
def test_any_order_or_repetition_of_failures_counts_each_once(order, repeats, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_property"
    user = UserFactory()
    attempt = PaymentAttempt.objects.create(
        order=OrderFactory(user=user, total=5000, subtotal=5000),
        number=1,
        kind="payment_intent",
        amount=5000,
        currency="usd",
        stripe_payment_intent_id=f"pi_declines{next(_serial):06d}",
    )
    events = [decline(attempt, fingerprint=f"fp{i % 2}") for i in range(4)]
    from payments.models import WebhookEvent

    rows = [
        WebhookEvent.objects.create(
            stripe_event_id=e["id"],
            type=e["type"],
            payload=e,
            payment_intent_id=e["data"]["object"]["id"],
        )
        for e in events
    ]
    for index in [*order, *repeats]:  # a replay or a second worker runs the handler again
        with transaction.atomic():
            registry.dispatch(rows[index])
    declines = PaymentDecline.objects.filter(attempt=attempt)
    assert declines.count() == 4
    assert sorted(declines.values_list("card_fingerprint", flat=True)) == [
        "fp0",
        "fp0",
        "fp1",
        "fp1",
    ]
