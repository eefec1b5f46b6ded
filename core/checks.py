"""System checks that stop a misconfigured shop before it takes a payment.

They run with every management command (`check`, `migrate`, `runserver`, ...), with
`check --deploy`, and when the WSGI application loads (config/wsgi.py), so gunicorn
refuses to start on a configuration that would charge real cards from a debug build.
"""

import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "shop"
logger = logging.getLogger(__name__)

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
    if not secret and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "STRIPE_SECRET_KEY is not set: every payment start answers 503 "
                "payments_not_configured, and reconcile and close_open_payments refuse to run.",
                hint="Set STRIPE_SECRET_KEY (sk_live_..., or a restricted rk_ key) in the "
                "environment or in .env.",
                id="shop.W002",
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


# E-mail backends that never deliver: receipts and staff alerts would be lost (and printed,
# addresses and all, to stdout by the console backend).
UNDELIVERED_EMAIL_BACKENDS = (
    "django.core.mail.backends.console.",
    "django.core.mail.backends.locmem.",
    "django.core.mail.backends.filebased.",
    "django.core.mail.backends.dummy.",
)
DEFAULT_FRONTEND_URL = "http://127.0.0.1:8000/shop/"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (names, not a bind)


def _malformed_networks(values, allow_unix: bool = False) -> list[str]:
    bad = []
    for value in values:
        text = str(value).strip()
        if allow_unix and text.lower() == "unix":
            continue
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            bad.append(text)
    return bad


def _frontend_url_problem(url: str) -> str | None:
    parts = urlsplit(url or "")
    if url == DEFAULT_FRONTEND_URL:
        return "is the development default"
    if parts.scheme != "https" or not parts.hostname:
        return "is not an https:// URL"
    if parts.hostname in LOOPBACK_HOSTS:
        return "points at this machine"
    return None


# Stripe's limit for one metadata value.
SHOP_ID_MAX_LENGTH = 500


@checks.register(TAG, deploy=False)
def check_production_configuration(app_configs=None, **kwargs):
    """What must hold before real shoppers arrive (DEBUG off); lists are checked always."""
    errors = []
    for setting, allow_unix, check_id in (
        ("WEBHOOK_ALLOWED_IPS", False, "shop.E011"),
        ("TRUSTED_PROXIES", True, "shop.E012"),
    ):
        bad = _malformed_networks(getattr(settings, setting, []), allow_unix=allow_unix)
        if bad:
            errors.append(
                checks.Error(
                    f"{setting} holds values that are not IP addresses or CIDR networks: "
                    + ", ".join(repr(value) for value in bad),
                    hint="Comma-separated addresses or networks such as 10.0.0.0/8"
                    + (" (and the word unix for a Unix-socket proxy)." if allow_unix else "."),
                    id=check_id,
                )
            )
    shop_id = getattr(settings, "SHOP_ID", "")
    if not shop_id or len(shop_id) > SHOP_ID_MAX_LENGTH:
        # Stripe refuses metadata values over 500 characters: every payment would fail.
        errors.append(
            checks.Error(
                f"SHOP_ID must be 1 to {SHOP_ID_MAX_LENGTH} characters (it is sent to Stripe "
                "in every payment's metadata).",
                hint="Set SHOP_ID to a short name unique to this deployment, or leave it "
                "empty to use the host of FRONTEND_URL.",
                id="shop.E014",
            )
        )
    if settings.DEBUG:
        return errors
    if settings.EMAIL_BACKEND.startswith(UNDELIVERED_EMAIL_BACKENDS):
        errors.append(
            checks.Error(
                f"E-mail backend {settings.EMAIL_BACKEND} never delivers: receipts and staff "
                "alerts would be lost.",
                hint="Set EMAIL_URL to your SMTP server (smtp+tls://user:password@host:587).",
                id="shop.E008",
            )
        )
    if not settings.REDIS_URL:
        errors.append(
            checks.Error(
                "No REDIS_URL in production: rate limits and the cache would be per process "
                "and Celery would run tasks inside web requests.",
                hint="Set REDIS_URL (redis://host:6379/0).",
                id="shop.E009",
            )
        )
    problem = _frontend_url_problem(settings.FRONTEND_URL)
    if problem:
        errors.append(
            checks.Error(
                f"FRONTEND_URL {problem}: shoppers would be sent there after paying.",
                hint="Set FRONTEND_URL to the shop's public https:// address.",
                id="shop.E010",
            )
        )
    mirror_key = getattr(settings, "STRIPE_MIRROR_KEY", "")
    if mirror_key and not mirror_key.startswith(("rk_test_", "rk_live_")):
        errors.append(
            checks.Error(
                "STRIPE_MIRROR_KEY is not a restricted key (rk_): the mirror must read with a "
                "read-only key, never the secret key.",
                hint="Create a restricted key with read access in the Stripe dashboard.",
                id="shop.E013",
            )
        )
    return errors


@checks.register(TAG)
def check_static_files_collected(app_configs=None, **kwargs):
    """With DEBUG off, static files are served from collectstatic's manifest: without it
    (collectstatic forgotten, or run into another STATIC_ROOT) every page is unstyled."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if settings.DEBUG or manifest is None:
        return []
    if staticfiles_storage.manifest_storage.exists(manifest):
        return []
    return [
        checks.Warning(
            f"No static files manifest in STATIC_ROOT ({settings.STATIC_ROOT}): the admin, "
            "the shop page and the API docs would be served without their CSS and scripts.",
            hint="Run `manage.py collectstatic --noinput` with this environment "
            "(docs/deploy.md, step 5).",
            id="shop.W001",
        )
    ]


def warn_on_configuration_warnings():
    """Log the shop's own warnings at process start (the web process runs no `check`)."""
    for message in check_static_files_collected():
        if not message.is_silenced():
            logger.warning("%s: %s %s", message.id, message.msg, message.hint)


def fail_on_configuration_errors():
    """Raise at process start when the shop's own checks find an error; log its warnings."""
    found = [
        message
        for check in (check_stripe_configuration, check_production_configuration)
        for message in check()
        if not message.is_silenced()
    ]
    for warning in (m for m in found if checks.WARNING <= m.level < checks.ERROR):
        logger.warning("%s: %s %s", warning.id, warning.msg, warning.hint or "")
    problems = [message for message in found if message.level >= checks.ERROR]
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start: " + " | ".join(f"{p.id}: {p.msg}" for p in problems)
        )
