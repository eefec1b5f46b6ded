"""No secret or personal datum reaches a log line, a Sentry event or an audit entry.

The logs are read as the configured handler renders them (JSON lines), and Sentry's events
as its transport would send them, after a whole checkout, a staff refund, a rejected
delivery and an event whose processing blew up quoting every secret we have.
"""

import json

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from audit.models import AuditEntry
from observability import sentry
from observability.redaction import redact
from payments.handlers import registry
from tests import stripe_events as se
from tests.factories import UserFactory, token_for
from tests.staff import confirm_at_stripe, submit_refund

pytestmark = pytest.mark.django_db

SHOPPER_EMAIL = "jane.doe@example.com"
# Assembled so that no key-shaped literal sits in the source for secret scanners.
RESTRICTED_KEY = "rk_" + "live_" + "x" * 24
STAFF_EMAIL = "refund.desk@example.com"
CARD = "4242 4242 4242 4242"


@pytest.fixture
def user(db):
    return UserFactory(email=SHOPPER_EMAIL)


class KeepingTransport(Transport):
    """Sentry events kept in memory, serialized exactly as they would be sent."""

    def __init__(self, options=None):
        super().__init__(options)
        self.sent: list[str] = []

    def capture_envelope(self, envelope):
        self.sent.append(envelope.serialize().decode("utf-8", errors="replace"))


@pytest.fixture
def sentry_events():
    transport = KeepingTransport()
    sentry.init("https://public@sentry.example.com/1", environment="test", transport=transport)
    yield transport.sent
    sentry_sdk.flush()
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the suite


def test_a_full_day_of_payments_leaks_nothing(
    api,
    user,
    client,
    start_payment,
    send_event,
    stripe_fake,
    log_output,
    sentry_events,
    monkeypatch,
    settings,
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    token = token_for(user)
    # Given a shopper who pays by card (the client secret goes to the browser only) ...
    attempt = start_payment()
    client_secret = f"{attempt.stripe_payment_intent_id}_secret_fake"
    assert stripe_fake.sent("POST", "/v1/payment_intents")
    send_event(se.event("payment_intent.succeeded", se.payment_intent(attempt)))

    # ... refunded by staff who paste the shopper's details into the reason ...
    staff = UserFactory(email=STAFF_EMAIL, is_staff=True, is_superuser=True)
    client.force_login(staff)
    reason = f"Asked by {SHOPPER_EMAIL}, card {CARD}"
    assert submit_refund(client, attempt.order, "10.00", reason=reason).status_code == 302
    confirm_at_stripe(send_event, stripe_fake)

    # ... a forged delivery carrying a token, and an event whose handler fails quoting secrets.
    forged = se.deliver(
        api, se.event("charge.refunded", {"id": "ch_1"}), secret="whsec_forged_secret"
    )
    assert forged.status_code == 400

    def explode(event):
        raise RuntimeError(
            f"boom key={settings.STRIPE_SECRET_KEY} secret={settings.STRIPE_WEBHOOK_SECRETS[0]} "
            f"cs={client_secret} mail={SHOPPER_EMAIL} card={CARD} "
            f"Authorization: Token {token} {RESTRICTED_KEY}"
        )

    monkeypatch.setitem(registry.HANDLERS, "payment_intent.payment_failed", explode)
    failing = se.event("payment_intent.payment_failed", se.payment_intent(attempt))
    assert send_event(failing).status_code == 200
    sentry_sdk.flush()

    # Then nothing secret is in the log lines, the Sentry events or the audit trail.
    logged = log_output.getvalue()
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    reported = "\n".join(sentry_events)
    audit = json.dumps(list(AuditEntry.objects.values_list("details", flat=True)))
    secrets = {
        "secret key": settings.STRIPE_SECRET_KEY,
        "restricted key": RESTRICTED_KEY,
        "webhook secret": "whsec_test_secret",
        "client secret": client_secret,
        "API token": token,
        "shopper e-mail": SHOPPER_EMAIL,
        "staff e-mail": STAFF_EMAIL,
        "card number": CARD,
        "card number (digits)": CARD.replace(" ", ""),
    }
    for what, secret in secrets.items():
        assert secret not in logged, f"{what} in the logs"
        assert secret not in reported, f"{what} sent to Sentry"
        assert secret not in audit, f"{what} in the audit trail"

    # ... while what operators need is still there, masked where it must be.
    failure = next(line for line in lines if line["event"].endswith("payment_failed) failed"))
    assert failure["level"] == "error" and failure["stripe_event_id"] == failing["id"]
    assert failure["order_id"] == attempt.order_id
    assert (
        "key=sk_[redacted]" in failure["exception"] and "j***@example.com" in failure["exception"]
    )
    assert "[card redacted]" in failure["exception"] and "Token [redacted]" in failure["exception"]
    alert = next(line for line in lines if "failed after 1 attempts" in line["event"])
    assert alert["event"].startswith("ALERT webhook event")
    assert any(line.get("logger") == "payments.webhooks.views" for line in lines)  # the forged one
    requests = [line for line in lines if line.get("logger") == "shop.request"]
    assert requests and all(line["request_id"] for line in requests)
    assert {line.get("user_id") for line in requests} >= {user.pk, staff.pk}
    assert "j***@example.com" in reported and "sk_[redacted]" in reported
    refund_entry = AuditEntry.objects.get(action="refund.requested")
    assert refund_entry.details["reason"] == "Asked by j***@example.com, card [card redacted]"


def test_an_unexpected_api_error_reaches_sentry_without_the_callers_token(
    api, user, monkeypatch, sentry_events, log_output
):
    from catalog.api import ProductListApi

    def broken(*args, **kwargs):
        raise ValueError(f"lookup failed for {SHOPPER_EMAIL}")

    monkeypatch.setattr(ProductListApi, "get", broken)
    assert api.get("/api/v1/products/").status_code == 500
    sentry_sdk.flush()
    reported = "\n".join(sentry_events)
    assert "lookup failed for j***@example.com" in reported
    token = api._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")  # the caller's own
    assert token not in reported and SHOPPER_EMAIL not in reported
    assert token not in log_output.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Key-shaped values are assembled here so no scanner takes them for real keys.
        ("key sk_" + "live_51HxYz0123456789abcdef", "key sk_[redacted]"),
        ("key rk_" + "test_51HxYz0123456789abcdef", "key rk_[redacted]"),
        ("whsec_1234567890abcdef", "whsec_[redacted]"),
        ("pi_3Nabc_secret_XyZ123", "pi_[redacted]"),
        ("Authorization: Bearer abc123def456ghi", "Authorization: Bearer [redacted]"),
        ("Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "Token [redacted]"),
        ("mail shopper@example.com now", "mail s***@example.com now"),
        ("card 4000-0000-0000-0002 declined", "card [card redacted] declined"),
        # left alone: amounts, timestamps, ids, plain words
        (
            "amount 99999999 at 1732452345 for order 42",
            "amount 99999999 at 1732452345 for order 42",
        ),
        ("the token expired", "the token expired"),
        ("evt_1Nabc pi_3Nabc re_1Nabc", "evt_1Nabc pi_3Nabc re_1Nabc"),
    ],
)
def test_redaction_of_each_kind(text, expected):
    assert redact(text) == expected


def test_redaction_of_structures_masks_secret_keys_whatever_their_value():
    scrubbed = redact(
        {
            "headers": {"Authorization": "anything", "Cookie": "sessionid=abc"},
            "nested": [{"password": "hunter2", "email": "a.b@example.org"}],
        }
    )
    assert scrubbed == {
        "headers": {"Authorization": "[redacted]", "Cookie": "[redacted]"},
        "nested": [{"password": "[redacted]", "email": "a***@example.org"}],
    }
