"""No Stripe key reaches the database: the dj-stripe mirror, fed by the emulator with every
object type it mirrors, leaves no secret, restricted or webhook-signing key in any column."""

import pytest
from django.db import connection
from djstripe import models as djstripe_models

from devstack import Emulator
from payments.gateway import mirror as mirror_module
from payments.gateway.tasks import mirror_stripe_object
from stripe_emulator.keys import placeholder_key
from tests.emulator_settings import point_shop_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SECRET_KEY = placeholder_key("sk", "ShopSecretNeverStored")
MIRROR_KEY = placeholder_key("rk", "MirrorReadOnlyNeverStored")
WEBHOOK_SECRET = "whsec_" + "WebhookSigningNeverStored" * 2


@pytest.fixture(scope="module")
def emulator():
    server = Emulator().start()
    yield server
    server.stop()


@pytest.fixture
def stripe(settings, emulator):
    emulator.control("POST", "/reset")
    point_shop_at(
        settings,
        emulator,
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        STRIPE_MIRROR_KEY=MIRROR_KEY,
        MIRROR_STRIPE_OBJECTS=True,
    )
    mirror_module.forget_owner_accounts()
    return emulator.client(SECRET_KEY)


def mirror(obj) -> str:
    return mirror_stripe_object.apply((obj.to_dict(for_json=True),)).get()


def every_text_value() -> str:
    """Every row of every table in the database, as text (what a dump would hold)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
            "FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        chunks = []
        for table in tables:
            cursor.execute(f"SELECT t::text FROM {table} AS t")  # names from the catalog
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_a_mirror_of_every_type_leaves_no_key_in_any_column(stripe, emulator):
    customer = stripe.v1.customers.create(params={"email": "ada@example.com"})
    intent = stripe.v1.payment_intents.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": "https://shop.example/paid",
        }
    )
    refund = stripe.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    _, opened = emulator.control("POST", "/disputes", {"payment": intent.id})
    session = stripe.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "success_url": "https://shop.example/ok",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1500,
                        "product_data": {"name": "Mug"},
                    },
                }
            ],
        }
    )
    for obj in (
        customer,
        stripe.v1.payment_intents.retrieve(intent.id),
        stripe.v1.charges.retrieve(intent.latest_charge),
        refund,
        stripe.v1.disputes.retrieve(opened["id"]),
        stripe.v1.checkout.sessions.retrieve(session.id),
    ):
        assert mirror(obj) == "mirrored"

    # The mirror really ran: the rows are there, under the emulator's account.
    assert djstripe_models.Charge.objects.filter(id=intent.latest_charge).exists()
    assert djstripe_models.Session.objects.filter(id=session.id).exists()
    account = stripe.v1.accounts.retrieve_current()
    assert djstripe_models.Customer.objects.get(id=customer.id).djstripe_owner_account_id == (
        account.id
    )

    dump = every_text_value()
    assert "ada@example.com" in dump  # the dump does read the mirrored rows
    for secret in (SECRET_KEY, MIRROR_KEY, WEBHOOK_SECRET):
        assert secret not in dump
        assert secret[-12:] not in dump
    assert not djstripe_models.APIKey.objects.exists()
    # Nor a client secret, which would let its reader confirm the payment.
    mirrored_intent = djstripe_models.PaymentIntent.objects.get(id=intent.id)
    assert "client_secret" not in mirrored_intent.stripe_data
    assert intent.client_secret not in dump and "_secret_" not in dump


def test_the_mirror_reads_with_the_mirror_key_when_it_is_set(stripe, emulator):
    customer = stripe.v1.customers.create(params={"email": "grace@example.com"})
    assert mirror_module.mirror_key() == MIRROR_KEY
    assert mirror(customer) == "mirrored"
    assert djstripe_models.Customer.objects.filter(id=customer.id).exists()
