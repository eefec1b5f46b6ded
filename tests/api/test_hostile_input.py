"""Hostile bodies: deep nesting, huge numbers, NUL characters, bytes that are not UTF-8.

Whatever a client (or a signed event) carries, the answer is a clear 4xx or a stored
event, never a 500, and nothing is half-written.
"""

import hashlib
import hmac
import json
import time

import pytest

from audit.models import AuditEntry
from observability import metrics
from orders.models import Order
from payments.models import WebhookEvent
from payments.webhooks import verification
from tests.conftest import error_code
from tests.stripe_events import deliver, event

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_secret"


def nested(depth: int) -> str:
    """`depth` levels of JSON: objects and arrays alternating, innermost an empty object."""
    text = "{}"
    for level in range(depth - 1):
        text = f'{{"a": {text}}}' if level % 2 else f"[{text}]"
    return text


def deep_30kb() -> bytes:
    return ("[" * 15_000 + "]" * 15_000).encode()


def signed_raw(client, payload: bytes, *, timestamp: int | None = None):
    """Deliver exact bytes with a Stripe signature computed over exactly those bytes."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return deliver(client, payload, signature=f"t={timestamp},v1={mac.hexdigest()}")


def _malformed(response):
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "malformed_json"


# --- JSON in the storefront API -------------------------------------------------------


@pytest.mark.parametrize("body", [deep_30kb(), nested(65).encode()], ids=["30kb", "65-levels"])
def test_deep_nesting_is_400_on_unauthenticated_register(anon, body):
    response = anon.generic("POST", "/api/v1/auth/register/", body, content_type="application/json")
    _malformed(response)


def test_the_refusal_says_what_is_wrong_without_quoting_the_body(anon):
    response = anon.generic(
        "POST", "/api/v1/auth/register/", nested(65).encode(), content_type="application/json"
    )
    assert response.json()["error"]["message"] == "The body is nested deeper than 64 levels."


def test_64_levels_are_still_json(anon):
    body = json.dumps({"email": "a@example.com", "password": "x", "deep": json.loads(nested(63))})
    response = anon.generic("POST", "/api/v1/auth/register/", body, content_type="application/json")
    # Parsed, then refused by the serializer for what it says (unknown field), not as JSON.
    assert response.status_code == 400
    assert error_code(response) != "malformed_json"


def test_deep_nesting_is_400_on_orders_and_cart_and_nothing_changes(api):
    orders = api.generic(
        "POST",
        "/api/v1/orders/",
        deep_30kb(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="deep-1",
    )
    _malformed(orders)
    cart = api.generic("POST", "/api/v1/cart/lines/", deep_30kb(), content_type="application/json")
    _malformed(cart)
    assert not Order.objects.exists()
    assert api.get("/api/v1/cart/").json()["lines"] == []


def test_token_endpoint_refuses_deep_nesting(anon):
    _malformed(
        anon.generic("POST", "/api/v1/auth/token/", deep_30kb(), content_type="application/json")
    )


@pytest.mark.parametrize(
    "number",
    ["1e400", "-1e400", "1" * 5000, "NaN", "Infinity", "-Infinity", "9223372036854775808"],
)
def test_numbers_no_machine_can_hold_are_400(api, product, number):
    body = f'{{"product_id": {product.pk}, "quantity": {number}}}'
    response = api.generic("POST", "/api/v1/cart/lines/", body, content_type="application/json")
    _malformed(response)


@pytest.mark.parametrize(
    "text", ['"a\\u0000b@example.com"', '"\\ud800@example.com"'], ids=["nul", "lone-surrogate"]
)
def test_strings_the_database_cannot_hold_are_400(anon, text):
    body = f'{{"email": {text}, "password": "correct horse battery staple"}}'
    response = anon.generic("POST", "/api/v1/auth/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) in {"malformed_json", "validation_error"}


def test_a_body_that_is_not_utf8_is_400(anon):
    body = b'{"email": "\xff\xfe@example.com", "password": "x"}'
    response = anon.generic("POST", "/api/v1/auth/register/", body, content_type="application/json")
    _malformed(response)


# --- the webhook ------------------------------------------------------------------------


def _refused(response, code):
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == code
    assert not WebhookEvent.objects.exists()


def test_deeply_nested_signed_event_is_400_malformed_json_and_not_stored(anon, stripe_fake):
    _refused(signed_raw(anon, deep_30kb()), "malformed_json")
    body = json.dumps(event("customer.created", json.loads(nested(70)))).encode()
    _refused(signed_raw(anon, body), "malformed_json")


def test_a_body_that_is_not_utf8_is_invalid_payload_and_not_stored(anon, stripe_fake):
    body = json.dumps(event("customer.created", {"id": "cus_1", "name": "NAME"})).encode()
    _refused(signed_raw(anon, body.replace(b"NAME", b"\xff\xfe")), "invalid_payload")


def test_a_signature_over_replacement_characters_does_not_verify_other_bytes(anon, stripe_fake):
    """Signed text with U+FFFD where the body has bytes that are not UTF-8: refused."""
    good = json.dumps(
        event("customer.created", {"id": "cus_1", "name": "NAME"}), ensure_ascii=False
    )
    sent = good.replace("NAME", "\ufffd").encode()  # what the signer saw
    actual = sent.replace("\ufffd".encode(), b"\xff")  # what arrives
    timestamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + sent, hashlib.sha256).hexdigest()
    header = f"t={timestamp},v1={mac}"
    with pytest.raises(verification.RejectedEvent):
        verification.verify_signature(actual, header, [SECRET])
    response = deliver(anon, actual, signature=header)
    assert response.status_code == 400
    assert error_code(response) in {"invalid_signature", "invalid_payload"}
    assert not WebhookEvent.objects.exists()


def test_a_timestamp_from_the_future_is_refused(anon, stripe_fake, settings):
    ahead = int(time.time()) + settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS + 60
    response = deliver(anon, event("customer.created", {"id": "cus_1"}), timestamp=ahead)
    _refused(response, "invalid_signature")
    # A little clock skew is fine.
    ok = deliver(anon, event("customer.created", {"id": "cus_2"}), timestamp=int(time.time()) + 30)
    assert ok.status_code == 200


def test_signed_event_with_nul_characters_is_stored_escaped_and_recoverable(
    anon, stripe_fake, send_event
):
    from payments.webhooks import nul_characters

    metrics.reset()
    original = event(
        "customer.created",
        {"id": "cus_nul", "name": "Ann\x00Lee", "metadata": {"k\x00": "v\x00\x00", "e": "\ufffd"}},
    )
    response = send_event(original)
    assert response.status_code == 200, response.content[:300]
    row = WebhookEvent.objects.get()
    assert row.stripe_event_id == original["id"]
    assert "\x00" not in json.dumps(row.payload, ensure_ascii=False)
    assert row.payload["data"]["object"]["name"] == "Ann\ufffdLee"
    # Nothing is lost: the exact event comes back from the stored row.
    assert nul_characters.restore(row.payload) == original
    assert AuditEntry.objects.filter(action="webhook.nul_escaped").count() == 1
    assert metrics.read_counter("webhook_events_nul_escaped") == {("customer.created",): 1}


def test_nul_escaping_round_trips():
    from payments.webhooks import nul_characters

    original = {
        "a\x00": ["x\x00y", {"\x00": "\x00"}, 1, None, "plain", "\ufffd"],
        "b": "\ufffd\x00",
    }
    escaped = nul_characters.escape(original)
    assert "\x00" not in json.dumps(escaped, ensure_ascii=False)
    assert nul_characters.restore(escaped) == original
    assert nul_characters.escape({"a": "b"}) == {"a": "b"}


def test_an_event_id_longer_than_stored_ids_is_400_with_an_alerting_audit_row(anon, stripe_fake):
    long_id = "evt_" + "x" * 300
    response = deliver(anon, event("customer.created", {"id": "cus_1"}, event_id=long_id))
    _refused(response, "invalid_payload")
    entry = AuditEntry.objects.get(action="webhook.rejected")
    assert entry.outcome == "refused"
    assert entry.details["code"] == "invalid_payload"
    assert entry.details["signed"] is True

    from payments import monitoring

    assert monitoring.webhook_events_refused_or_escaped().firing


def test_a_signed_event_with_an_impossible_created_time_is_not_a_500(anon, stripe_fake):
    response = deliver(anon, event("customer.created", {"id": "cus_1"}, created=10**18))
    assert response.status_code in {200, 400}
    if response.status_code == 200:
        assert WebhookEvent.objects.get().stripe_created is None


@pytest.mark.parametrize(
    "obj",
    [
        {"id": 5, "object": "payment_intent", "metadata": ["order_id"]},
        {"id": "pi_1", "object": "payment_intent", "metadata": "1", "payment_intent": 7},
        {"id": "ch_1", "object": "charge", "payment_intent": {"id": 9}, "metadata": None},
    ],
)
def test_signed_events_with_fields_of_the_wrong_type_are_not_a_500(anon, stripe_fake, obj):
    response = deliver(anon, event("charge.refunded", obj))
    assert response.status_code == 200
    expected = "pi_1" if obj["id"] == "pi_1" else ""  # only a string id is an id
    assert WebhookEvent.objects.get().payment_intent_id == expected


def test_a_body_built_to_make_the_depth_scan_slow_is_refused_quickly(anon):
    """An unterminated string of escaped quotes: a scan that tries every quote is quadratic."""
    body = ('"' + '\\"' * 50_000).encode()
    started = time.monotonic()
    response = anon.generic("POST", "/api/v1/auth/register/", body, content_type="application/json")
    _malformed(response)
    assert time.monotonic() - started < 2
