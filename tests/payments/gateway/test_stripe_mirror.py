"""One Stripe customer per shopper, and dj-stripe's mirror of what we touch at Stripe."""

import logging

import pytest
from django.contrib.auth.models import Permission
from djstripe import models as djstripe_models

from audit.models import AuditEntry
from payments.models import PaymentAttempt, StripeCustomer
from tests import stripe_events as se
from tests.concurrency import run_in_threads
from tests.factories import ProductFactory, UserFactory
from tests.stripe_fake import CONNECTION

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_shopper(client_for):
    """A shopper who never paid here: no Stripe customer yet."""
    shopper = UserFactory()
    return shopper, client_for(shopper)


def order_for(api, amount=2500):
    product = ProductFactory(unit_amount=amount, stock=10)
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
    return api.post_idem("/api/v1/orders/", body).json()["id"]


class TestStripeCustomer:
    def test_created_once_and_used_for_every_payment(self, new_shopper, stripe_fake):
        shopper, api = new_shopper
        first, second = order_for(api), order_for(api)
        assert api.post_idem(f"/api/v1/orders/{first}/payment-intent/", {}).status_code == 201
        assert api.post_idem(f"/api/v1/orders/{second}/checkout-session/", {}).status_code == 201

        [created] = stripe_fake.sent("POST", "/v1/customers")
        assert created.idempotency_key == f"customer-{shopper.pk}"
        assert created.params == {"email": shopper.email, "metadata[user_id]": str(shopper.pk)}
        customer_id = StripeCustomer.objects.get(user=shopper).stripe_customer_id
        [intent] = stripe_fake.sent("POST", "/v1/payment_intents")
        [session] = stripe_fake.sent("POST", "/v1/checkout/sessions")
        assert intent.params["customer"] == session.params["customer"] == customer_id
        assert "customer_email" not in session.params  # Stripe refuses both together
        assert AuditEntry.objects.filter(action="stripe_customer.created").count() == 1

    def test_stripe_down_at_customer_creation_is_a_503_and_the_retry_completes(
        self, new_shopper, stripe_fake
    ):
        shopper, api = new_shopper
        order_id = order_for(api)
        stripe_fake.fail_next(CONNECTION)
        failed = api.post_idem(f"/api/v1/orders/{order_id}/payment-intent/", {})
        assert failed.status_code == 503
        assert not StripeCustomer.objects.filter(user=shopper).exists()
        assert stripe_fake.sent("POST", "/v1/payment_intents") == []

        retried = api.post_idem(f"/api/v1/orders/{order_id}/payment-intent/", {})
        assert retried.status_code == 201
        keys = [r.idempotency_key for r in stripe_fake.sent("POST", "/v1/customers")]
        assert keys == [f"customer-{shopper.pk}"] * 2
        assert StripeCustomer.objects.filter(user=shopper).count() == 1
        assert PaymentAttempt.objects.filter(order_id=order_id).count() == 1

    @pytest.mark.postgres
    @pytest.mark.django_db(transaction=True)
    def test_two_payments_at_once_make_one_customer(self, stripe_fake, client_for):
        shopper = UserFactory()
        api = client_for(shopper)
        orders = [order_for(api), order_for(api)]

        def pay(order_id):
            return lambda: client_for(shopper).post_idem(
                f"/api/v1/orders/{order_id}/payment-intent/", {}
            )

        responses = run_in_threads([pay(o) for o in orders])
        assert [r.status_code for r in responses] == [201, 201]
        customers = {r.params["customer"] for r in stripe_fake.sent("POST", "/v1/payment_intents")}
        assert len(customers) == 1
        assert StripeCustomer.objects.filter(user=shopper).count() == 1
        # Both asked Stripe with the same key: Stripe made one customer.
        keys = {r.idempotency_key for r in stripe_fake.sent("POST", "/v1/customers")}
        assert keys == {f"customer-{shopper.pk}"}


@pytest.fixture
def mirroring(settings):
    settings.MIRROR_STRIPE_OBJECTS = True


class TestMirror:
    def test_payment_refund_and_dispute_are_mirrored_beside_the_order(
        self,
        mirroring,
        new_shopper,
        stripe_fake,
        send_event,
        client,
        django_capture_on_commit_callbacks,
    ):
        shopper, api = new_shopper
        order_id = order_for(api)
        with django_capture_on_commit_callbacks(execute=True):
            started = api.post_idem(f"/api/v1/orders/{order_id}/payment-intent/", {})
        assert started.status_code == 201
        attempt = PaymentAttempt.objects.get(order_id=order_id)
        customer_id = StripeCustomer.objects.get(user=shopper).stripe_customer_id
        assert djstripe_models.Customer.objects.filter(id=customer_id).exists()

        stripe_fake.objects["ch_paid_1"] = {
            "id": "ch_paid_1",
            "object": "charge",
            "amount": attempt.amount,
            "currency": "usd",
            "status": "succeeded",
            "paid": True,
            "created": 1_700_000_000,
            "livemode": False,
            "payment_intent": attempt.stripe_payment_intent_id,
            "metadata": {},
        }
        intent = se.payment_intent(attempt, charge_id="ch_paid_1", created=1_700_000_000)
        intent["customer"] = customer_id
        send_event(se.event("payment_intent.succeeded", intent))
        send_event(
            se.event(
                "refund.updated",
                se.refund(
                    attempt.stripe_payment_intent_id,
                    amount=500,
                    refund_id="re_mirror_1",
                    charge="ch_paid_1",
                    created=1_700_000_100,
                ),
            )
        )
        dispute = se.dispute(
            attempt.stripe_payment_intent_id, amount=attempt.amount, dispute_id="dp_mirror_1"
        )
        dispute["charge"] = "ch_paid_1"
        send_event(se.event("charge.dispute.created", dispute))

        mirrored_pi = djstripe_models.PaymentIntent.objects.get(id=attempt.stripe_payment_intent_id)
        assert mirrored_pi.stripe_data["status"] == "succeeded"
        assert djstripe_models.Charge.objects.filter(id="ch_paid_1").exists()
        assert djstripe_models.Refund.objects.get(id="re_mirror_1").stripe_data["amount"] == 500
        assert djstripe_models.Dispute.objects.filter(id="dp_mirror_1").exists()

        staff = UserFactory(is_staff=True)
        staff.user_permissions.set(Permission.objects.filter(codename="view_order"))
        client.force_login(staff)
        page = client.get(f"/admin/orders/order/{order_id}/change/").content.decode()
        assert "Stripe&#x27;s side (dj-stripe mirror)" in page
        for stripe_id in (customer_id, attempt.stripe_payment_intent_id, "ch_paid_1"):
            assert stripe_id in page
        assert "re_mirror_1" in page and "dp_mirror_1" in page

    def test_a_mirror_failure_never_touches_the_books(
        self, mirroring, start_payment, stripe_fake, send_event, caplog
    ):
        attempt = start_payment()
        # Stripe unreachable for the mirror's own calls (its owning account, the charge).
        stripe_fake.fail_next(*[CONNECTION] * 10)
        with caplog.at_level(logging.WARNING, logger="payments.gateway.tasks"):
            response = send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
        assert response.status_code == 200
        attempt.order.refresh_from_db()
        assert attempt.order.status == "paid"
        assert not djstripe_models.PaymentIntent.objects.exists()
        assert "the books are unaffected" in caplog.text

    def test_off_by_default_with_eager_tasks(
        self, start_payment, stripe_fake, send_event, settings
    ):
        assert settings.CELERY_TASK_ALWAYS_EAGER and not settings.MIRROR_STRIPE_OBJECTS
        attempt = start_payment()
        send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
        assert stripe_fake.sent("GET") == []  # no Stripe call after the event either
        assert not djstripe_models.PaymentIntent.objects.exists()


def test_every_read_of_the_mirror_uses_the_mirror_key(
    mirroring, settings, start_payment, stripe_fake, send_event
):
    from payments.gateway import mirror as mirror_module

    settings.STRIPE_MIRROR_KEY = "rk_test_" + "MirrorReadsOnly" + "0" * 17
    mirror_module.forget_owner_accounts()
    attempt = start_payment()
    stripe_fake.objects["ch_mirror_key"] = {
        "id": "ch_mirror_key",
        "object": "charge",
        "amount": attempt.amount,
        "currency": "usd",
        "status": "succeeded",
        "paid": True,
        "created": 1_700_000_000,
        "livemode": False,
        "payment_intent": attempt.stripe_payment_intent_id,
        "metadata": {},
    }
    before = len(stripe_fake.sent("GET"))
    send_event(
        se.event(
            "payment_intent.succeeded",
            se.payment_intent(attempt, charge_id="ch_mirror_key", created=1_700_000_000),
        )
    )

    assert djstripe_models.Charge.objects.filter(id="ch_mirror_key").exists()
    reads = stripe_fake.sent("GET")[before:]
    assert reads, "the mirror made no read at all"
    used = {request.headers.get("Authorization") for request in reads}
    assert used == {f"Bearer {settings.STRIPE_MIRROR_KEY}"}
