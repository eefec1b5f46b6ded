import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.checks import check_stripe_configuration, fail_on_configuration_errors

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
