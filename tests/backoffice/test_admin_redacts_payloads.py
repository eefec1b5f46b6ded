"""Staff reading webhook events in the back office never see a client secret, an e-mail
address, a key or a card number, however deep in the payload it sits; and no admin page
can store a Stripe key (dj-stripe's API key admin is gone)."""

import pytest
from django.contrib.auth.models import Permission
from djstripe import models as djstripe_models

from payments.models import WebhookEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "pi_3PqRsTuVwXyZ0123_secret_AbCdEfGhIjKlMnOpQrStUv"


@pytest.fixture
def event_viewer(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_webhookevent"))
    client.force_login(user)
    return client


def test_the_webhook_event_page_shows_the_payload_redacted(event_viewer):
    deep = {"note": "Jane.Doe+orders@Mail.Example.CO.UK"}
    for level in range(30):
        deep = {f"level{level}": deep}
    event = WebhookEvent.objects.create(
        stripe_event_id="evt_redact_1",
        type="payment_intent.succeeded",
        payload={
            "id": "evt_redact_1",
            "data": {
                "object": {
                    "id": "pi_3PqRsTuVwXyZ0123",
                    "client_secret": CLIENT_SECRET,
                    "receipt_email": "shopper@example.com",
                    "charges": [{"billing_details": {"email": "payer@example.org"}}],
                    "description": f"paid with {CLIENT_SECRET}",
                    "deep": deep,
                }
            },
        },
    )

    page = event_viewer.get(f"/admin/payments/webhookevent/{event.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "pi_3PqRsTuVwXyZ0123" in body  # the object id stays readable
    for leaked in (
        "_secret_AbCdEf",
        "shopper@example.com",
        "payer@example.org",
        "Jane.Doe+orders@",
        "Doe+orders",
    ):
        assert leaked not in body


def test_no_admin_page_adds_a_stripe_key(admin_client):
    assert admin_client.get("/admin/djstripe/apikey/add/").status_code == 404
    assert admin_client.get("/admin/djstripe/apikey/").status_code == 404


def test_the_database_layer_refuses_an_api_key_row():
    with pytest.raises(PermissionError):
        djstripe_models.APIKey.objects.create(
            secret="sk_test_" + "A" * 32, type="secret", livemode=False
        )
    assert not djstripe_models.APIKey.objects.exists()


def test_a_webhook_endpoint_row_never_keeps_its_signing_secret():
    secret = "whsec_" + "S" * 32
    djstripe_models.WebhookEndpoint.objects.create(
        id="we_keepsnosecret",
        url="https://shop.example.com/api/v1/webhooks/stripe/",
        api_version="2026-08-26.dahlia",
        enabled_events=["*"],
        status="enabled",
        secret=secret,
        stripe_data={"id": "we_keepsnosecret", "object": "webhook_endpoint", "secret": secret},
    )
    stored = djstripe_models.WebhookEndpoint.objects.values("secret", "stripe_data").get()
    assert stored["secret"] == ""
    assert secret not in str(stored["stripe_data"])
