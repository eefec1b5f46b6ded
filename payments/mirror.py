"""A read-only mirror of the Stripe objects we touch, in dj-stripe's tables, for staff.

Our own rows (attempts, refunds, disputes) are the books; dj-stripe's copy shows Stripe's
side beside an order in the admin. Mirroring runs in a Celery task after an event has been
processed or a customer created, never inside the webhook request, and a failure is logged
and retried without touching our books. dj-stripe makes its own SDK calls (the owning
account once per key, related objects it lacks), through the SDK's global settings, which
payments.stripe_client sets like its own client: API base, timeouts, retries.
"""

import logging

from django.conf import settings
from django.db import transaction
from djstripe import models as djstripe_models

from payments import stripe_client

logger = logging.getLogger(__name__)

MIRRORED = {
    "customer": djstripe_models.Customer,
    "payment_intent": djstripe_models.PaymentIntent,
    "charge": djstripe_models.Charge,
    "refund": djstripe_models.Refund,
    "dispute": djstripe_models.Dispute,
    "checkout.session": djstripe_models.Session,
}


def mirrors(obj: dict) -> bool:
    return settings.MIRROR_STRIPE_OBJECTS and obj.get("object") in MIRRORED


def mirror_object(obj: dict):
    """Upsert one Stripe object (as Stripe sent it) into dj-stripe's table for its type."""
    stripe_client.configure_global_sdk()
    model = MIRRORED[obj["object"]]
    return model.sync_from_stripe_data(obj, api_key=settings.STRIPE_SECRET_KEY)


def mirror_charge(charge_id: str):
    """A PaymentIntent's charge is not in its events at this API version: fetch it."""
    charge = stripe_client.call("charges.retrieve", lambda c: c.v1.charges.retrieve(charge_id))
    return mirror_object(charge.to_dict(for_json=True))


def after_commit(obj: dict) -> None:
    """Queue mirroring once the surrounding transaction has committed."""
    if not mirrors(obj):
        return
    from payments.tasks import mirror_stripe_object

    def queue():
        try:
            mirror_stripe_object.apply_async((obj,), retry=False)
        except Exception as exc:  # broker down: the mirror is a convenience, the books are safe
            logger.warning("stripe mirror of %s not queued (%s)", obj.get("id"), type(exc).__name__)

    transaction.on_commit(queue)
