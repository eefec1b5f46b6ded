"""What the emulator's API tests share: waiting for deliveries and reading them, HTTP that
does not follow redirects, and the objects most tests start from."""

import time
import urllib.error
import urllib.parse
import urllib.request

from devstack import Emulator, wait_until

# (where, raw body) of every Stripe API answer the tests saw (conftest.py checks them).
SEEN: list[tuple[str, bytes | str]] = []

CARD = "pm_card_visa"
# What the folder's emulator signs its deliveries with (conftest.py).
WEBHOOK_SECRET = "whsec_api_tests"
# Where a server-side confirm sends the shopper back after a redirect: Stripe wants one
# unless redirects are ruled out (`payment_method_types`, or `allow_redirects=never`).
RETURN_URL = "https://shop.example/orders/9/paid"


def event_types(receiver, count: int) -> list[str]:
    """The types of the first `count` events delivered (waiting for them)."""
    wait_until(lambda: len(receiver.events()) >= count, timeout=10, what=f"{count} deliveries")
    return [e["type"] for e in receiver.events()[:count]]


def deliveries(emulator, event_id: str | None = None) -> list[dict]:
    """Every delivery attempt the emulator made (of one event, when given), oldest first."""
    query = f"?event_id={event_id}" if event_id else ""
    return emulator.control("GET", f"/deliveries{query}")[1]["data"]


def succeeded_deliveries(emulator, event_id: str | None = None) -> list[dict]:
    """The attempts the emulator has seen answered 2xx. A test receiver records an event
    before it answers, so waiting on the receiver alone can read the emulator's state
    (delivery_success, pending_webhooks, an endpoint's failure run) before the answer is
    counted."""
    return [d for d in deliveries(emulator, event_id) if d["outcome"] == "succeeded"]


def record_answer(url: str, status: int, body) -> None:
    """Keep an answer of the Stripe API (`/v1/`), not of the control API or the pages."""
    path = urllib.parse.urlsplit(url).path
    if path.startswith("/v1/"):
        SEEN.append((f"{status} {path}", body))


def http(method, url, data=None, headers=None):
    """Plain HTTP without following redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            status, answer = response.status, response.read().decode()
            headers = dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, headers, answer = exc.code, dict(exc.headers), exc.read().decode()
    record_answer(url, status, answer)
    return status, headers, answer


def intent(client, amount=1999, **params):
    """A PaymentIntent; confirmed at once (`confirm=True`) it gets RETURN_URL unless the
    test rules redirects out itself."""
    redirects_decided = {"return_url", "payment_method_types", "automatic_payment_methods"}
    if params.get("confirm") and not redirects_decided & set(params):
        params["return_url"] = RETURN_URL
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd", **params})


def session(client, **params):
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1250,
                        "product_data": {"name": "<script>alert(1)</script> Mug"},
                    },
                    "quantity": 2,
                }
            ],
            "success_url": "https://shop.example/orders/9?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/orders/9?checkout=cancelled",
            "expires_at": int(time.time()) + 3600,
            "customer_email": "shopper@example.com",
            "client_reference_id": "9",
            "metadata": {"order_id": "9", "attempt": "1"},
            "payment_intent_data": {"metadata": {"order_id": "9", "attempt": "1"}},
            **params,
        }
    )


def pay_on_page(cs, choice: str):
    return http("POST", cs.url, f"choice={choice}".encode())


def paid_intent(client, amount=5000):
    return intent(client, amount=amount, payment_method=CARD, confirm=True)


# Bank debits settle by themselves only after this; never reached on the wall clock during a
# test, so only an advanced clock settles them.
BANK_DELAY = 3 * 60 * 60


def emulator_with_slow_banks(receiver):
    """A started emulator delivering to `receiver` whose bank debits settle after BANK_DELAY."""
    return Emulator(
        webhook_urls=[receiver.url], webhook_secret=WEBHOOK_SECRET, async_delay_seconds=BANK_DELAY
    ).start()
