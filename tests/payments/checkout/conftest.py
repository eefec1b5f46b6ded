"""Fixtures of the card-testing tests (helpers in card_testing.py)."""

import pytest

from payments.models import StripeCustomer
from tests.factories import UserFactory


@pytest.fixture
def card_testing_limits(settings):
    # Generous defaults, so each test trips only the key it is about.
    settings.PAYMENT_FAILURES_PER_HOUR = 100
    settings.PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR = 100
    settings.PAYMENT_FAILURES_PER_CARD_PER_HOUR = 100
    settings.PAYMENT_FAILURES_PER_ATTEMPT = 100
    settings.PAYMENT_FAILED_EMAIL_INTERVAL_MINUTES = 0


@pytest.fixture
def shopper(client_for):
    """A second-shopper factory: (user, API client)."""

    def make():
        user = UserFactory()
        StripeCustomer.objects.create(user=user, stripe_customer_id=f"cus_known_{user.pk}")
        return user, client_for(user)

    return make
