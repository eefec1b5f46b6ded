"""System checks that stop a misconfigured shop before it takes a payment.

They run with every management command (`check`, `migrate`, `runserver`, ...), with
`check --deploy`, and when the WSGI application loads (config/wsgi.py), so gunicorn
refuses to start on a configuration that would charge real cards from a debug build.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "shop"

SECRET_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
LIVE_SECRET_PREFIXES = ("sk_live_", "rk_live_")
PUBLISHABLE_KEY_PREFIXES = ("pk_test_", "pk_live_")
WEBHOOK_SECRET_PREFIX = "whsec_"


def _is_live(key: str) -> bool:
    return key.startswith(LIVE_SECRET_PREFIXES)


@checks.register(TAG)
def check_stripe_configuration(app_configs=None, **kwargs):
    errors = []
    secret = settings.STRIPE_SECRET_KEY
    publishable = settings.STRIPE_PUBLISHABLE_KEY
    webhook_secrets = settings.STRIPE_WEBHOOK_SECRETS

    if secret and not secret.startswith(SECRET_KEY_PREFIXES):
        errors.append(
            checks.Error(
                "STRIPE_SECRET_KEY is not a secret or restricted key (it must start with "
                "sk_ or rk_).",
                hint="Copy the secret key from the Stripe dashboard; a pk_ or whsec_ value "
                "belongs in another variable.",
                id="shop.E001",
            )
        )
    if publishable and not publishable.startswith(PUBLISHABLE_KEY_PREFIXES):
        errors.append(
            checks.Error(
                "STRIPE_PUBLISHABLE_KEY is not a publishable key (it must start with pk_).",
                hint="Never put a secret key where the browser can read it.",
                id="shop.E002",
            )
        )
    for position, value in enumerate(webhook_secrets, start=1):
        if not value.startswith(WEBHOOK_SECRET_PREFIX):
            errors.append(
                checks.Error(
                    f"STRIPE_WEBHOOK_SECRETS entry {position} is not a webhook signing "
                    "secret (it must start with whsec_).",
                    id="shop.E003",
                )
            )
    if _is_live(secret) and settings.DEBUG:
        errors.append(
            checks.Error(
                "A live Stripe key is configured while DEBUG is on.",
                hint="Use a test key (sk_test_) in development, or switch DEBUG off.",
                id="shop.E004",
            )
        )
    if _is_live(secret) and settings.STRIPE_API_BASE:
        errors.append(
            checks.Error(
                "STRIPE_API_BASE points the SDK away from Stripe while a live key is configured.",
                hint="STRIPE_API_BASE is for the local emulator with test keys only.",
                id="shop.E005",
            )
        )
    if not settings.DEBUG and not webhook_secrets:
        errors.append(
            checks.Error(
                "No STRIPE_WEBHOOK_SECRETS in production: Stripe's events could not be verified "
                "and no payment would ever be confirmed.",
                hint="Set STRIPE_WEBHOOK_SECRETS to the endpoint's whsec_ signing secret.",
                id="shop.E006",
            )
        )
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        errors.append(
            checks.Error(
                "SECRET_KEY is the embedded development key while DEBUG is off.",
                hint="Set SECRET_KEY to a long random value.",
                id="shop.E007",
            )
        )
    return errors


def fail_on_configuration_errors():
    """Raise at process start when the shop's own checks find an error."""
    problems = [
        message
        for message in check_stripe_configuration()
        if message.level >= checks.ERROR and not message.is_silenced()
    ]
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start: " + " | ".join(f"{p.id}: {p.msg}" for p in problems)
        )
