"""The shopper's Stripe customer: created at Stripe once, remembered here."""

from django.db import IntegrityError, transaction

from audit.services import record
from payments.checkout.params import idempotency
from payments.gateway import client as stripe_client
from payments.gateway import mirror
from payments.models import StripeCustomer


def ensure_customer(user) -> str:
    """The shopper's Stripe customer id, created at Stripe the first time it is needed.

    Called with no lock held. Two requests at once send the same idempotency key
    (`customer-<user id>`), so Stripe makes one customer and both store the same id.
    """
    known = StripeCustomer.objects.filter(user=user).values_list("stripe_customer_id", flat=True)
    if known:
        return known[0]
    customer = stripe_client.call(
        "customers.create",
        lambda c: c.v1.customers.create(
            params={"email": user.email, "metadata": {"user_id": str(user.pk)}},
            options=idempotency(f"customer-{user.pk}"),
        ),
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(user=user, stripe_customer_id=customer.id)
            record(
                "stripe_customer.created",
                actor=user,
                obj=user,
                details={"stripe_customer": customer.id},
            )
            mirror.after_commit(customer.to_dict(for_json=True))
    except IntegrityError:
        pass  # a concurrent request stored it first: the same customer, by the same key
    return StripeCustomer.objects.get(user=user).stripe_customer_id
