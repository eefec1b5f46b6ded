"""Smoke: on `make run`'s offline defaults, the demo shopper orders and pays, and the
emulator's webhook marks the order paid. Run by scripts/smoke-run."""

import os
import sys
import time
import uuid

import requests

API = os.environ["SMOKE_URL"] + "/api/v1/"
STRIPE = os.environ["SMOKE_STRIPE"]
if not STRIPE:
    sys.exit("smoke: make run did not start the Stripe emulator")

http = requests.Session()
token = http.post(
    API + "auth/token/",
    json={"email": "shopper@example.com", "password": os.environ["SMOKE_PASSWORD"]},
    timeout=10,
)
token.raise_for_status()
http.headers["Authorization"] = "Token " + token.json()["token"]


def post(path: str, body: dict) -> dict:
    answer = http.post(
        API + path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30
    )
    if answer.status_code != 201:
        sys.exit(f"smoke: POST {path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


product = http.get(API + "products/", timeout=10).json()["results"][0]
order = post("orders/", {"lines": [{"product_id": product["id"], "quantity": 1}]})
started = post(f"orders/{order['id']}/payment-intent/", {})
confirmed = requests.post(  # what Stripe.js does with the publishable key
    f"{STRIPE}/v1/payment_intents/{started['payment_intent_id']}/confirm",
    data={"client_secret": started["client_secret"], "payment_method": "pm_card_visa"},
    headers={"Authorization": f"Bearer {started['publishable_key']}"},
    timeout=10,
)
if confirmed.status_code != 200:
    sys.exit(f"smoke: the emulator refused the payment: {confirmed.text[:300]}")
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    status = http.get(API + f"orders/{order['id']}/", timeout=10).json()["status"]
    if status == "paid":
        print(f"smoke: order {order['number']} paid offline through the Stripe emulator")
        sys.exit(0)
    time.sleep(0.5)
sys.exit(f"smoke: order {order['number']} is still {status}")
