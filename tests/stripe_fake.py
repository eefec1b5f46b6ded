"""A recording stand-in for Stripe at the SDK's HTTP-client seam.

The real `stripe.StripeClient` builds, encodes and sends every request; only the last hop
(the `stripe.HTTPClient`) is replaced. Tests assert on the form-encoded requests our code
sent and script Stripe's answers: scripted failures first, then small stateful behaviours
for PaymentIntents and Checkout Sessions that honour Idempotency-Key like Stripe does.
"""

import itertools
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import stripe

from stripe_emulator.keys import placeholder_key


@dataclass
class SentRequest:
    method: str
    path: str
    params: dict
    headers: dict

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


def stripe_error(status: int, type_: str, message: str, code: str | None = None, **extra):
    return status, {"error": {"type": type_, "message": message, "code": code, **extra}}


CARD_DECLINED = stripe_error(
    402,
    "card_error",
    "Your card has insufficient funds.",
    "card_declined",
    decline_code="insufficient_funds",
)
RATE_LIMITED = stripe_error(429, "invalid_request_error", "Too many requests.", "rate_limit")
BAD_KEY = stripe_error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****cret")
NO_PERMISSION = stripe_error(
    403, "invalid_request_error", "The provided key 'rk_test_****' does not have access."
)
INVALID = stripe_error(
    400,
    "invalid_request_error",
    "Received unknown parameter: secret_raw_detail",
    "parameter_unknown",
    param="secret_raw_detail",
)
SERVER_ERROR = stripe_error(500, "api_error", "Internal Stripe failure req_raw_detail")
CONNECTION = "connection"
# dj-stripe accepts only keys shaped like Stripe's (24+ letters and digits after the prefix).
FAKE_SECRET_KEY = placeholder_key("sk", "FakeStripeHttpClient")
ACCOUNT = {
    "id": "acct_fake_platform",
    "object": "account",
    "type": "standard",
    "country": "US",
    "default_currency": "usd",
    "email": None,
    "charges_enabled": True,
    "payouts_enabled": True,
    "details_submitted": True,
    "business_profile": {"name": "Test shop"},
    "settings": {"dashboard": {"display_name": "Test shop"}},
    "metadata": {},
}


@dataclass
class FakeStripe(stripe.HTTPClient):
    name = "fake"
    requests: list[SentRequest] = field(default_factory=list)
    scripted: list = field(default_factory=list)
    objects: dict = field(default_factory=dict)
    replies_by_key: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # what the Events API lists
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self):
        super().__init__()

    # -- scripting -------------------------------------------------------------------
    def fail_next(self, *answers) -> None:
        """Each answer: CONNECTION, or (status, body) as made by stripe_error()."""
        self.scripted.extend(answers)

    def sent(self, method: str | None = None, path_prefix: str = "") -> list[SentRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and r.path.startswith(path_prefix)
        ]

    # -- the seam ----------------------------------------------------------------------
    def request(self, method, url, headers, post_data=None):
        path = urlsplit(url).path
        query = urlsplit(url).query
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or query)
        params = dict(parse_qsl(raw or "", keep_blank_values=True))
        sent = SentRequest(method.upper(), path, params, dict(headers))
        self.requests.append(sent)
        if self.scripted:
            answer = self.scripted.pop(0)
            if answer == CONNECTION:
                raise stripe.APIConnectionError("Connection refused by fake", should_retry=True)
            status, body = answer
            return json.dumps(body).encode(), status, {"Request-Id": "req_fake"}
        key = sent.idempotency_key
        if method.upper() == "POST" and key and (path, key) in self.replies_by_key:
            status, body = self.replies_by_key[(path, key)]
        else:
            status, body = self._behave(sent)
            if method.upper() == "POST" and key:
                self.replies_by_key[(path, key)] = (status, body)
        return json.dumps(body).encode(), status, {"Request-Id": "req_fake"}

    def close(self):
        pass

    # -- behaviours ------------------------------------------------------------------
    def _behave(self, sent: SentRequest):
        parts = sent.path.strip("/").split("/")[1:]  # drop "v1"
        if parts == ["account"]:
            return 200, ACCOUNT
        if parts == ["payment_intents"] and sent.method == "POST":
            return self._create_payment_intent(sent.params)
        if parts[:1] == ["payment_intents"] and len(parts) == 2:
            return self._get(parts[1])
        if parts[:1] == ["payment_intents"] and parts[2:] == ["cancel"]:
            return self._close(
                parts[1], "requires_payment_method", "canceled", "payment_intent_unexpected_state"
            )
        if parts == ["refunds"] and sent.method == "POST":
            return self._create_refund(sent.params)
        if parts == ["customers"] and sent.method == "POST":
            return self._create_customer(sent.params)
        if parts[:1] in (["customers"], ["charges"]) and len(parts) == 2:
            return self._get(parts[1])
        if parts == ["refunds"] and sent.method == "GET":
            return self._list(
                "/v1/refunds",
                [
                    o
                    for o in self.objects.values()
                    if o["object"] == "refund"
                    and o.get("payment_intent") == sent.params.get("payment_intent")
                ],
            )
        if parts == ["events"] and sent.method == "GET":
            return self._list_events(sent.params)
        if parts[:1] == ["events"] and len(parts) == 2:
            found = [e for e in self.events if e["id"] == parts[1]]
            return (200, found[0]) if found else self._get(parts[1])
        if parts[:2] == ["checkout", "sessions"] and len(parts) == 3 and sent.method == "GET":
            status, session = self._get(parts[2])
            if status == 200 and sent.params.get("expand[0]") == "payment_intent":
                intent = self.objects.get(session.get("payment_intent"))
                session = {**session, "payment_intent": intent or session.get("payment_intent")}
            return status, session
        if parts == ["checkout", "sessions"] and sent.method == "POST":
            return self._create_session(sent.params)
        if parts[:2] == ["checkout", "sessions"] and parts[3:] == ["expire"]:
            return self._close(parts[2], "open", "expired", "checkout_session_unexpected_state")
        return stripe_error(
            404, "invalid_request_error", f"Unrecognized request URL ({sent.method}: {sent.path})"
        )

    def _new_id(self, prefix):
        return f"{prefix}_fake{next(self.ids):04d}"

    def _create_payment_intent(self, params):
        pi_id = self._new_id("pi")
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "amount_received": 0,
            "customer": params.get("customer"),
            "status": "requires_payment_method",
            "client_secret": f"{pi_id}_secret_fake",
            "latest_charge": None,
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
        }
        self.objects[pi_id] = intent
        return 200, intent

    def _create_customer(self, params):
        customer = {
            "id": self._new_id("cus"),
            "object": "customer",
            "created": 1_700_000_000,
            "email": params.get("email"),
            "livemode": False,
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
        }
        self.objects[customer["id"]] = customer
        return 200, customer

    def _create_refund(self, params):
        re_id = self._new_id("re")
        refund = {
            "id": re_id,
            "object": "refund",
            "amount": int(params["amount"]),
            "payment_intent": params.get("payment_intent"),
            "charge": None,
            "currency": "usd",
            "status": "pending",
            "reason": params.get("reason"),
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
        }
        self.objects[re_id] = refund
        return 200, refund

    def _create_session(self, params):
        cs_id = self._new_id("cs_test")
        session = {
            "id": cs_id,
            "object": "checkout.session",
            "status": "open",
            "payment_status": "unpaid",
            "url": f"https://checkout.stripe.test/c/pay/{cs_id}",
            "currency": params.get("line_items[0][price_data][currency]"),
            "payment_intent": None,
        }
        self.objects[cs_id] = session
        return 200, session

    @staticmethod
    def _list(url, data):
        return 200, {"object": "list", "url": url, "has_more": False, "data": data}

    def _list_events(self, params):
        types = {v for k, v in params.items() if k.startswith("types[")}
        delivered = {"true": True, "false": False}.get(params.get("delivery_success"))
        since = int(params.get("created[gte]", 0))
        return self._list(
            "/v1/events",
            [
                e
                for e in self.events
                if (not types or e["type"] in types)
                and (delivered is None or e.get("delivered", True) == delivered)
                and e["created"] >= since
            ],
        )

    def _get(self, object_id):
        if object_id not in self.objects:
            return stripe_error(404, "invalid_request_error", "No such object", "resource_missing")
        return 200, self.objects[object_id]

    def _close(self, object_id, open_status, closed_status, unexpected_code):
        if object_id not in self.objects:
            return stripe_error(404, "invalid_request_error", "No such object", "resource_missing")
        obj = self.objects[object_id]
        if obj["status"] not in (open_status, "requires_action", "requires_confirmation"):
            return stripe_error(400, "invalid_request_error", "Unexpected state", unexpected_code)
        obj["status"] = closed_status
        return 200, obj
