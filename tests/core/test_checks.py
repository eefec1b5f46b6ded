import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.checks import (
    check_production_configuration,
    check_stripe_configuration,
    fail_on_configuration_errors,
)

SAFE = {
    "DEBUG": True,
    "STRIPE_SECRET_KEY": "sk_test_123",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_123",
    "STRIPE_WEBHOOK_SECRETS": ["whsec_abc"],
    "STRIPE_API_BASE": "",
}


def _ids(settings, **overrides):
    for name, value in {**SAFE, **overrides}.items():
        setattr(settings, name, value)
    return {message.id: message.msg for message in check_stripe_configuration()}


def test_a_safe_configuration_passes(settings):
    assert _ids(settings) == {}


@pytest.mark.parametrize(
    ("overrides", "check_id", "words"),
    [
        ({"STRIPE_SECRET_KEY": "sk_live_123"}, "shop.E004", "live Stripe key"),
        (
            {
                "STRIPE_SECRET_KEY": "rk_live_123",
                "DEBUG": False,
                "STRIPE_API_BASE": "http://127.0.0.1:12111",
            },
            "shop.E005",
            "STRIPE_API_BASE",
        ),
        ({"STRIPE_SECRET_KEY": "pk_test_123"}, "shop.E001", "not a secret or restricted key"),
        ({"STRIPE_SECRET_KEY": "whsec_123"}, "shop.E001", "not a secret or restricted key"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_test_123"}, "shop.E002", "not a publishable key"),
        (
            {"STRIPE_WEBHOOK_SECRETS": ["whsec_a", "sk_test_oops"]},
            "shop.E003",
            "entry 2 is not a webhook signing secret",
        ),
        ({"DEBUG": False, "STRIPE_WEBHOOK_SECRETS": []}, "shop.E006", "No STRIPE_WEBHOOK_SECRETS"),
    ],
)
def test_each_dangerous_configuration_fails_with_its_message(settings, overrides, check_id, words):
    found = _ids(settings, **overrides)
    assert check_id in found
    assert words in found[check_id]


def test_the_checks_stop_management_commands_and_the_wsgi_start(settings, db):
    # `check` runs every app's checks; dj-stripe's read its tables.
    _ids(settings, STRIPE_SECRET_KEY="sk_live_123")
    with pytest.raises(SystemCheckError, match="live Stripe key"):
        call_command("check")
    with pytest.raises(SystemCheckError, match="live Stripe key"):
        call_command("check", "--deploy")
    with pytest.raises(ImproperlyConfigured, match=r"shop\.E004"):
        fail_on_configuration_errors()


def test_production_refuses_the_embedded_secret_key(settings):
    found = _ids(settings, DEBUG=False, SECRET_KEY=settings.INSECURE_DEV_SECRET_KEY)
    assert "shop.E007" in found


# --- production configuration (DEBUG off) ---------------------------------------------
PRODUCTION = {
    **SAFE,
    "DEBUG": False,
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-checks-0123456789",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "FRONTEND_URL": "https://shop.example.com/",
    "WEBHOOK_ALLOWED_IPS": ["3.18.12.63", "3.130.192.0/24", "2600:1f16::/32"],
    "TRUSTED_PROXIES": ["10.0.0.0/8", "unix", "127.0.0.1"],
    "STRIPE_MIRROR_KEY": "",
}


def _production_ids(settings, **overrides):
    for name, value in {**PRODUCTION, **overrides}.items():
        setattr(settings, name, value)
    return {
        message.id: message.msg
        for check in (check_stripe_configuration, check_production_configuration)
        for message in check()
    }


def test_a_safe_production_configuration_passes(settings):
    assert _production_ids(settings) == {}


UNSAFE_IN_PRODUCTION = [
    ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "shop.E008"),
    ({"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, "shop.E008"),
    ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, "shop.E008"),
    ({"REDIS_URL": ""}, "shop.E009"),
    ({"FRONTEND_URL": "http://shop.example.com/"}, "shop.E010"),
    ({"FRONTEND_URL": "http://127.0.0.1:8000/shop/"}, "shop.E010"),
    ({"FRONTEND_URL": "https://127.0.0.1:8000/shop/"}, "shop.E010"),
    ({"FRONTEND_URL": "not a url"}, "shop.E010"),
    ({"WEBHOOK_ALLOWED_IPS": ["3.18.12.63", "3.18.12.999"]}, "shop.E011"),
    ({"WEBHOOK_ALLOWED_IPS": ["stripe.com"]}, "shop.E011"),
    ({"TRUSTED_PROXIES": ["10.0.0.0/33"]}, "shop.E012"),
    ({"TRUSTED_PROXIES": ["proxy.internal"]}, "shop.E012"),
    ({"STRIPE_MIRROR_KEY": "sk_test_" + "m" * 24}, "shop.E013"),
    ({"SHOP_ID": "s" * 501}, "shop.E014"),
]


@pytest.mark.parametrize(("overrides", "check_id"), UNSAFE_IN_PRODUCTION)
def test_production_refuses_each_unsafe_setting(settings, overrides, check_id):
    assert check_id in _production_ids(settings, **overrides)


@pytest.mark.parametrize(("overrides", "check_id"), UNSAFE_IN_PRODUCTION)
def test_check_deploy_and_the_wsgi_start_refuse_each_unsafe_setting(
    settings, db, overrides, check_id
):
    _production_ids(settings, **overrides)
    with pytest.raises(SystemCheckError, match=check_id.replace(".", r"\.")):
        call_command("check", "--deploy")
    with pytest.raises(ImproperlyConfigured, match=check_id.replace(".", r"\.")):
        fail_on_configuration_errors()


def test_development_keeps_its_conveniences(settings):
    found = _production_ids(
        settings,
        DEBUG=True,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        REDIS_URL="",
        FRONTEND_URL="http://127.0.0.1:8000/shop/",
    )
    assert found == {}


def test_production_without_a_stripe_key_warns_at_start_and_still_starts(settings, db, caplog):
    found = _production_ids(settings, STRIPE_SECRET_KEY="")
    assert set(found) == {"shop.W002"}
    assert "STRIPE_SECRET_KEY is not set" in found["shop.W002"]
    call_command("check", "--deploy")  # a warning: the checks pass
    with caplog.at_level("WARNING", logger="core.checks"):
        fail_on_configuration_errors()  # what gunicorn's start runs: it starts, and says so
    assert any("shop.W002: STRIPE_SECRET_KEY is not set" in r.getMessage() for r in caplog.records)
    # In development `make run` or the dev file provides a key; no warning there.
    assert "shop.W002" not in _production_ids(settings, STRIPE_SECRET_KEY="", DEBUG=True)
