"""dj-stripe's mirror fed by the Stripe emulator, in process: every object the shop mirrors
syncs, whatever order its events arrive in, with what dj-stripe fetches by itself (the
account behind the key, balance transactions, related objects) served by the emulator."""

import pytest
from djstripe import models as djstripe_models

from payments.gateway.tasks import mirror_stripe_object
from stripe_emulator.keys import placeholder_key
from tests.emulator_settings import point_shop_at
from tests.stripe_emulator.helpers import RETURN_URL

pytestmark = pytest.mark.django_db

SECRET_KEY = placeholder_key("sk", "MirrorOnEmulator")  # dj-stripe checks the shape


@pytest.fixture
def stripe(settings, emulator):
    emulator.control("POST", "/reset")
    point_shop_at(
        settings,
        emulator,
        secret_key=SECRET_KEY,
        webhook_secret="whsec_unused",
        MIRROR_STRIPE_OBJECTS=True,
    )
    return emulator.client(SECRET_KEY)


def mirror(obj) -> str:
    """What the worker does with an object an event carried (eager: no retry)."""
    return mirror_stripe_object.apply((obj.to_dict(for_json=True),)).get()


def paid_intent(stripe, customer, amount=4000):
    return stripe.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
            "metadata": {"order_id": "7"},
        }
    )


def test_refund_and_dispute_arriving_first_pull_in_the_charge_and_everything_it_names(
    stripe, emulator
):
    customer = stripe.v1.customers.create(params={"email": "ada@example.com"})
    intent = paid_intent(stripe, customer)
    refund = stripe.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    _, opened = emulator.control("POST", "/disputes", {"payment": intent.id})
    dispute = stripe.v1.disputes.retrieve(opened["id"])

    # Nothing mirrored yet: dj-stripe fetches the charge (expanding its balance
    # transaction), the PaymentIntent, the customer and the payment method itself.
    assert mirror(refund) == "mirrored"
    assert mirror(dispute) == "mirrored"
    assert mirror(stripe.v1.payment_intents.retrieve(intent.id)) == "mirrored"

    charge = stripe.v1.charges.retrieve(intent.latest_charge)
    mirrored_charge = djstripe_models.Charge.objects.get(id=charge.id)
    assert (mirrored_charge.status, mirrored_charge.stripe_data["amount_refunded"]) == (
        "succeeded",
        1000,
    )
    assert mirrored_charge.balance_transaction.id == charge.balance_transaction
    assert mirrored_charge.balance_transaction.stripe_data["net"] == 4000 - 146
    assert mirrored_charge.payment_method.id == "pm_card_visa"
    assert djstripe_models.PaymentIntent.objects.get(id=intent.id).stripe_data["status"] == (
        "succeeded"
    )
    assert djstripe_models.Customer.objects.get(id=customer.id).email == "ada@example.com"
    mirrored_refund = djstripe_models.Refund.objects.get(id=refund.id)
    assert (mirrored_refund.status, mirrored_refund.charge.id) == ("succeeded", charge.id)
    assert mirrored_refund.balance_transaction.stripe_data["amount"] == -1000
    mirrored_dispute = djstripe_models.Dispute.objects.get(id=dispute.id)
    assert (mirrored_dispute.status, mirrored_dispute.charge.id) == ("needs_response", charge.id)
    withdrawal = djstripe_models.BalanceTransaction.objects.get(source=dispute.id)
    assert withdrawal.stripe_data["fee"] == 1500


def test_every_row_belongs_to_the_emulators_account(stripe):
    account = stripe.v1.accounts.retrieve_current()
    customer = stripe.v1.customers.create(params={"email": "grace@example.com"})
    assert mirror(customer) == "mirrored"
    assert mirror(stripe.v1.customers.retrieve(customer.id)) == "mirrored"  # an update
    mirrored = djstripe_models.Customer.objects.get(id=customer.id)
    assert mirrored.djstripe_owner_account.id == account.id
    assert djstripe_models.Account.objects.get().stripe_data["country"] == "US"
    # The account is found through the key without storing it (payments.gateway.mirror).
    assert not djstripe_models.APIKey.objects.exists()


def test_a_checkout_session_paid_on_the_page_is_mirrored_with_its_payment(stripe, emulator):
    customer = stripe.v1.customers.create(params={"email": "alan@example.com"})
    session = stripe.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "success_url": "https://shop.example/ok",
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1500,
                        "product_data": {"name": "Mug"},
                    },
                }
            ],
        }
    )
    emulator.control("POST", f"/checkout_sessions/{session.id}/pay", {"card": "4242424242424242"})
    assert mirror(stripe.v1.checkout.sessions.retrieve(session.id)) == "mirrored"

    mirrored = djstripe_models.Session.objects.get(id=session.id)
    assert (mirrored.status, mirrored.payment_status) == ("complete", "paid")
    assert mirrored.customer.id == customer.id
    assert mirrored.payment_intent.stripe_data["amount"] == 3000
