"""No Stripe key (a checkout outside `make run`, a deployment that forgot it): shoppers get a
503 in the contract's error body, nothing is started or held, and the operator is told
which variable to set."""

import pytest

from orders.models import Order
from payments.errors import StripeNotConfigured
from payments.gateway import client as stripe_client
from payments.models import PaymentAttempt
from tests.conftest import error_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_stripe_key(stripe_fake, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_EMULATOR_STOPPED = ""
    return stripe_fake


@pytest.mark.parametrize("kind", ["payment-intent", "checkout-session"])
def test_payment_start_answers_503_payments_not_configured_and_changes_nothing(
    api, order, no_stripe_key, kind, log_output
):
    held_until = Order.objects.get(pk=order.pk).reserved_until

    response = api.post_idem(f"/api/v1/orders/{order.pk}/{kind}/", {})

    assert response.status_code == 503
    assert error_code(response) == "payments_not_configured"
    assert response.json()["error"]["message"] == StripeNotConfigured.message
    assert int(response["Retry-After"]) > 0
    assert not PaymentAttempt.objects.filter(order_id=order.pk).exists()
    assert Order.objects.get(pk=order.pk).reserved_until == held_until
    assert no_stripe_key.requests == []
    # The operator's line says what to do; the shopper's answer does not.
    assert "STRIPE_SECRET_KEY is not set" in log_output.getvalue()
    assert "STRIPE_SECRET_KEY" not in response.content.decode()


def test_a_stripe_call_names_the_variable_and_how_to_set_it(no_stripe_key):
    with pytest.raises(StripeNotConfigured) as refused:
        stripe_client.call("balance.retrieve", lambda c: c.v1.balance.retrieve())
    assert refused.value.status == 503
    assert refused.value.detail.startswith("STRIPE_SECRET_KEY is not set")
    assert "in .env" in refused.value.detail and "make run" in refused.value.detail
    assert no_stripe_key.requests == []


def test_once_make_run_stopped_the_call_names_its_emulator(no_stripe_key, settings):
    settings.STRIPE_EMULATOR_STOPPED = "http://127.0.0.1:40999"
    with pytest.raises(StripeNotConfigured) as refused:
        stripe_client.call("balance.retrieve", lambda c: c.v1.balance.retrieve())
    assert refused.value.detail.startswith(
        "The Stripe emulator at http://127.0.0.1:40999 is not running (make run stopped)"
    )


def test_close_open_payments_refuses_at_once_and_says_what_to_set(
    start_payment, stripe_fake, settings
):
    from django.core.management import CommandError, call_command

    attempt = start_payment()
    stripe_fake.requests.clear()
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_EMULATOR_STOPPED = ""

    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY is not set"):
        call_command("close_open_payments")

    attempt.refresh_from_db()
    assert attempt.status == "requires_payment"
    assert stripe_fake.requests == []
