"""The webhook's hot path does less per delivery and keeps what it answers and stores."""

import json

import pytest
from django.db import connection
from django.urls import Resolver404, resolve

from payments.models import WebhookEvent
from tests.stripe_events import event

pytestmark = pytest.mark.django_db


def test_the_webhook_is_the_first_route_tried():
    # Resolved without walking every API route before it (bench/: about 0.05 ms a delivery).
    from config.urls import urlpatterns

    first = urlpatterns[0]
    assert first.resolve("api/v1/webhooks/stripe/").url_name == "stripe-webhook"
    with pytest.raises(Resolver404):  # nothing else of the API sits in front of it
        first.resolve("api/v1/health/")
    assert resolve("/api/v1/webhooks/stripe/").url_name == "stripe-webhook"


def test_the_acknowledgement_is_the_same_json_as_before(send_event):
    response = send_event(event("customer.created", {"id": "cus_ack"}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"received": true}'


def test_a_duplicate_is_acknowledged_with_the_same_json(send_event):
    evt = event("customer.created", {"id": "cus_dup"})
    send_event(evt)
    response = send_event(evt)
    assert response.status_code == 200 and response.json() == {"received": True}


# The body as Stripe sent it is what the inbox stores (not the event parsed and encoded again):
# every way of writing the same JSON must come back as the same event.
TRICKY_BODY = (
    '{"id": "evt_tricky_1", "object": "event", "type": "customer.created",'
    ' "api_version": "2026-08-26.dahlia", "created": 1764489600, "livemode": false,'
    ' "data": {"object": {"id": "cus_tricky", "object": "customer",'
    ' "name": "Ren\\u00e9e \\"Z\\" M\\u00fcller \\ud83d\\ude00 \u00e9\u4e2d",'
    ' "description": "back\\\\slash \\/ tab\\t nl\\n", "balance": -1200,'
    ' "ratio": 1.50, "big": 9223372036854775807, "exp": 1e2,'
    ' "metadata": {"order_id": "42", "order_id": "43"}, "list": [[], {}, [1, [2, [3]]]],'
    ' "empty": "", "nothing": null, "yes": true}}}'
)


def test_the_stored_payload_is_the_event_the_body_holds(send_event):
    response = send_event(TRICKY_BODY.encode())
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    assert row.payload == json.loads(TRICKY_BODY)
    obj = row.payload["data"]["object"]
    assert obj["name"] == 'Ren\u00e9e "Z" M\u00fcller \U0001f600 \u00e9\u4e2d'
    assert obj["metadata"] == {"order_id": "43"}  # the last of repeated keys, as Python reads
    assert row.order_id == 43
    assert obj["big"] == 2**63 - 1 and obj["exp"] == 100 and obj["ratio"] == 1.5
    # Stored from the body itself, not encoded again: numbers keep the way Stripe wrote them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload #>> '{data,object,ratio}' FROM payments_webhookevent WHERE id = %s",
            [row.pk],
        )
        assert cursor.fetchone()[0] == "1.50"


def test_an_event_with_an_escaped_nul_is_still_stored_escaped(send_event):
    body = json.dumps(event("customer.created", {"id": "cus_nul", "name": "a\u0000b"})).encode()
    assert b"\\u0000" in body
    assert send_event(body).status_code == 200
    stored = WebhookEvent.objects.get().payload
    assert "\u0000" not in json.dumps(stored, ensure_ascii=False)
