"""A read-only mirror of the Stripe objects we touch, in dj-stripe's tables, for staff.

Our own rows (attempts, refunds, disputes) are the books; dj-stripe's copy shows Stripe's
side beside an order in the admin. Mirroring runs in a Celery task after an event has been
processed or a customer created, never inside the webhook request, and a failure is logged
and retried without touching our books. dj-stripe makes its own SDK calls (the owning
account once per key, related objects it lacks), through the SDK's global settings, which
payments.gateway.client sets like its own client: API base, timeouts, retries.

No key is ever written to the database. dj-stripe finds the account that owns each object
through `Account.get_or_retrieve_for_api_key`, which stores the key itself, in clear, in
`djstripe_apikey`. `install_keyless_owner_lookup` (called once from PaymentsConfig.ready)
replaces that lookup with one that asks Stripe for the key's account and remembers only the
account id, in this process, under a digest of the key; a `pre_save` guard refuses any
APIKey row (dj-stripe's admin and sync commands included), others blank a webhook
endpoint's signing secret and drop client secrets from the raw copies before they are
saved. The mirror reads with `STRIPE_MIRROR_KEY`, a restricted read-only key, when it is
set; without one it is off in production (settings.MIRROR_STRIPE_OBJECTS).
"""

import hashlib
import logging
import threading

import stripe
from django.conf import settings
from django.db import transaction
from djstripe import models as djstripe_models

from payments.gateway import client
from payments.gateway.tasks import mirror_stripe_object

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


def mirror_key() -> str:
    """The key dj-stripe reads with: the restricted mirror key, else (development) ours."""
    return settings.STRIPE_MIRROR_KEY or settings.STRIPE_SECRET_KEY


def mirror_object(obj: dict):
    """Upsert one Stripe object (as Stripe sent it) into dj-stripe's table for its type."""
    client.configure_global_sdk()
    model = MIRRORED[obj["object"]]
    return model.sync_from_stripe_data(obj, api_key=mirror_key())


# --- the owning account, found without storing the key ----------------------------------
_owner_account_ids: dict[str, str] = {}
_owner_lock = threading.Lock()


def _key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def forget_owner_accounts() -> None:
    """Drop the remembered key → account ids (tests switch keys and reset the emulator)."""
    with _owner_lock:
        _owner_account_ids.clear()


def owner_account_for_key(account_model, api_key: str):
    """The Account behind `api_key`, fetched once per process; the key is never saved.

    A restricted key Stripe does not let read /v1/account gives no owner (the column is
    nullable): the mirror still works, its rows just do not name the account.
    """
    digest = _key_digest(api_key)
    account_id = _owner_account_ids.get(digest)
    if account_id:
        account = account_model.objects.filter(id=account_id).first()
        if account is not None:
            return account
    try:
        data = account_model.stripe_class.retrieve(
            api_key=api_key, stripe_version=settings.STRIPE_API_VERSION
        )
    except stripe.PermissionError:
        # Stripe answers 403 to a restricted key without the account permission; any other
        # error (Stripe unreachable) propagates and the task retries.
        logger.info("stripe mirror: the mirror key may not read its account; rows name none")
        return None
    with _owner_lock:
        _owner_account_ids[digest] = data["id"]
    # An empty row first, filled by the sync right after (dj-stripe does the same): syncing
    # the account looks its owner up again.
    account, created = account_model.objects.get_or_create(id=data["id"])
    if created:
        account_model.sync_from_stripe_data(data, api_key=api_key)
        account.refresh_from_db()
    return account


def _refuse_api_key_rows(sender, instance, **kwargs):
    raise PermissionError(
        "Refusing to store a Stripe API key in the database (djstripe_apikey); "
        "keys live in the environment only."
    )


def _drop_endpoint_secret(sender, instance, **kwargs):
    # Stripe returns a webhook endpoint's signing secret once, on creation; dj-stripe would
    # keep it in its `secret` column and in the raw copy. Ours live in the environment.
    instance.secret = ""
    if isinstance(instance.stripe_data, dict):
        instance.stripe_data.pop("secret", None)


def _drop_client_secret(sender, instance, **kwargs):
    # A PaymentIntent's, SetupIntent's or Session's client secret lets whoever holds it
    # confirm the payment; staff never need it, and dj-stripe's admin would show it.
    if isinstance(instance, djstripe_models.StripeModel) and isinstance(instance.stripe_data, dict):
        instance.stripe_data.pop("client_secret", None)


def install_keyless_owner_lookup() -> None:
    """Make dj-stripe find owner accounts without writing keys (see the module docstring)."""
    from django.db.models.signals import pre_save

    djstripe_models.Account.get_or_retrieve_for_api_key = classmethod(owner_account_for_key)
    pre_save.connect(
        _refuse_api_key_rows, sender=djstripe_models.APIKey, dispatch_uid="no-stripe-key-rows"
    )
    pre_save.connect(_drop_client_secret, dispatch_uid="no-client-secret-rows")
    pre_save.connect(
        _drop_endpoint_secret,
        sender=djstripe_models.WebhookEndpoint,
        dispatch_uid="no-webhook-secret-rows",
    )


def mirror_charge(charge_id: str):
    """A PaymentIntent's charge is not in its events at this API version: fetch it."""
    charge = client.call(
        "charges.retrieve",
        lambda c: c.v1.charges.retrieve(charge_id, options={"api_key": mirror_key()}),
    )
    return mirror_object(charge.to_dict(for_json=True))


def after_commit(obj: dict) -> None:
    """Queue mirroring once the surrounding transaction has committed."""
    if not mirrors(obj):
        return

    def queue():
        try:
            mirror_stripe_object.apply_async((obj,), retry=False)
        except Exception as exc:  # broker down: the mirror is a convenience, the books are safe
            logger.warning("stripe mirror of %s not queued (%s)", obj.get("id"), type(exc).__name__)

    transaction.on_commit(queue)
