"""Card testing, the answers: open payments closed at Stripe, decline e-mails throttled,
the kill switch, and the operators' commands."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from notifications.models import OutboxEmail
from orders.models import Order
from payments.models import PaymentDecline
from tests import stripe_events as se
from tests.factories import UserFactory
from tests.payments.checkout.card_testing import (
    ELSEWHERE,
    closed_at_stripe,
    decline,
    fresh,
    new_order,
    open_payment,
    start,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("card_testing_limits")]


class TestDeclineEmails:
    def test_one_decline_email_per_order_within_the_window(
        self, api, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILED_EMAIL_INTERVAL_MINUTES = 30
        attempt = open_payment(api)
        for _ in range(3):
            send_event(decline(attempt))
        assert [m.subject for m in mail.outbox] == [
            f"Payment for order {attempt.order.number} did not go through"
        ]
        OutboxEmail.objects.update(created_at=timezone.now() - timedelta(minutes=31))
        send_event(decline(attempt))
        assert len(mail.outbox) == 2

    def test_no_decline_email_once_the_shopper_is_blocked(
        self, api, stripe_fake, send_event, settings
    ):
        settings.PAYMENT_FAILURES_PER_HOUR = 2
        first, second = open_payment(api), open_payment(api)
        send_event(decline(first))
        assert len(mail.outbox) == 1
        send_event(decline(second))  # this one trips the limit
        send_event(decline(second))
        assert len(mail.outbox) == 1


class TestKillSwitch:
    def test_switching_payments_off_closes_every_open_payment_at_stripe(
        self, api, shopper, stripe_fake, settings
    ):
        from payments.checkout.tasks import close_blocked_payments

        intent = open_payment(api)
        _, other = shopper()
        session = open_payment(other, kind="checkout-session", address=ELSEWHERE)
        close_blocked_payments()
        assert closed_at_stripe(stripe_fake) == set()  # switched on: nothing to do

        settings.PAYMENTS_ENABLED = False
        close_blocked_payments()

        assert closed_at_stripe(stripe_fake) == {
            intent.stripe_payment_intent_id,
            session.stripe_checkout_session_id,
        }
        assert {fresh(intent).status, fresh(session).status} == {"canceled"}

    def test_the_command_closes_them_at_once(self, api, stripe_fake, settings, capsys):
        intent = open_payment(api)
        settings.PAYMENTS_ENABLED = False
        call_command("close_open_payments")
        assert closed_at_stripe(stripe_fake) == {intent.stripe_payment_intent_id}
        assert "1 closed" in capsys.readouterr().out
        call_command("close_open_payments")  # again: nothing left, nothing sent
        assert len(closed_at_stripe(stripe_fake)) == 1

    def test_a_payment_that_succeeded_while_switched_off_is_recorded(
        self, api, stripe_fake, send_event, settings
    ):
        attempt = open_payment(api)
        settings.PAYMENTS_ENABLED = False
        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
        assert fresh(attempt).status == "succeeded"
        assert Order.objects.get(pk=attempt.order_id).status == "paid"

    def test_a_closing_stripe_cannot_reach_is_retried_by_the_sweep(
        self, api, stripe_fake, settings
    ):
        from payments.checkout.tasks import close_blocked_payments
        from tests.stripe_fake import CONNECTION

        intent = open_payment(api)
        settings.PAYMENTS_ENABLED = False
        stripe_fake.fail_next(CONNECTION)
        close_blocked_payments()
        assert fresh(intent).status == "requires_payment"  # Stripe unreachable: still open
        close_blocked_payments()
        assert fresh(intent).status == "canceled"


class TestOperators:
    def test_staff_lift_a_block_by_deleting_its_declines_and_it_is_audited(
        self, api, stripe_fake, send_event, settings, client
    ):
        from django.contrib.auth.models import Permission

        settings.PAYMENT_FAILURES_PER_HOUR = 2
        attempt = open_payment(api)
        send_event(decline(attempt))
        send_event(decline(attempt))
        assert start(api, new_order(api)).status_code == 429
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.set(Permission.objects.filter(codename="view_paymentdecline"))
        client.force_login(viewer)
        url = "/admin/payments/paymentdecline/"
        assert client.get(url).status_code == 200
        pk = PaymentDecline.objects.first().pk
        client.post(f"{url}{pk}/delete/", {"post": "yes"})
        assert PaymentDecline.objects.count() == 2  # viewing is not lifting

        staff = UserFactory(is_staff=True)
        staff.user_permissions.set(
            Permission.objects.filter(codename__in=["view_paymentdecline", "delete_paymentdecline"])
        )
        client.force_login(staff)
        response = client.post(f"{url}{pk}/delete/", {"post": "yes"})

        assert response.status_code == 302
        assert PaymentDecline.objects.count() == 1
        entry = AuditEntry.objects.get(action="payment_decline.deleted")
        assert entry.actor == staff and entry.order_id == attempt.order_id
        assert start(api, new_order(api)).status_code == 201
