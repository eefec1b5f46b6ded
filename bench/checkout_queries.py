"""SQL queries per checkout request, in-process: `python -m bench.checkout_queries <lines>`.

Run by bench/checkout.py with the benchmark's environment (database, Redis, emulator).
Prints one JSON line: {"order": n, "payment_intent": n}.
"""

import json
import sys
import uuid

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalog.models import Product  # noqa: E402


def main(lines: int) -> dict:
    client = Client(SERVER_NAME="127.0.0.1")
    email = f"queries-{uuid.uuid4().hex[:10]}@example.com"
    answer = client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": "correct horse battery 42"},
        content_type="application/json",
    )
    headers = {"HTTP_AUTHORIZATION": f"Token {answer.json()['token']}"}

    def post(path, body=None):
        return client.post(
            f"/api/v1/{path}",
            body or {},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            **headers,
        )

    for product in Product.objects.filter(sku__startswith="BENCH-").order_by("id")[:lines]:
        assert post("cart/lines/", {"product_id": product.pk, "quantity": 1}).status_code == 201
    counts = {}
    # The first order and payment of a process and shopper warm caches and create the
    # shopper's Stripe customer: count the second ones, as the HTTP measurement mostly sees.
    first = post("orders/")
    post(f"orders/{first.json()['id']}/payment-intent/")
    with CaptureQueriesContext(connection) as order_queries:
        created = post("orders/")
    assert created.status_code == 201, created.content
    counts["order"] = len(order_queries)
    with CaptureQueriesContext(connection) as intent_queries:
        started = post(f"orders/{created.json()['id']}/payment-intent/")
    assert started.status_code == 201, started.content
    counts["payment_intent"] = len(intent_queries)
    return counts


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
