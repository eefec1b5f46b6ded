#!/usr/bin/env python
"""Schema fuzzing of the whole API with schemathesis against our own OpenAPI schema.

Starts the shop (gunicorn, worker, Redis, the Stripe emulator) on a fresh database with a
seeded shopper (token), two products, a cart line and an order, then runs
`schemathesis run <shop>/api/v1/schema/` with that shopper's token over every operation:
FAULTS_FUZZ_EXAMPLES (50) examples an operation, a fixed seed, the checks
`not_a_server_error` and `response_schema_conformance`.

Then hostile bodies, by hand, on every operation of the schema (path ids filled with the
seeded rows): JSON nested 30 KB deep and 65 levels deep, NUL characters and unpaired
surrogates, numbers no column holds (1e400, 10**5000, 2**63, NaN), every field of the
operation's request schema given each wrong type in turn, bytes that are not UTF-8, a 200 KB
string; on the webhook, correctly signed bodies with all of that plus an over-long event id
or type, an impossible `created`, and a timestamp from the future.

Invariants: no 5xx and no response that breaks the schema (schemathesis exits 0); no 5xx
for any hostile body, and every refusal uses the error body.
"""

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from harness import ROOT, WEBHOOK_SECRET, Shop, base_env, fault_database, setup_django
from reporting import Report

EXAMPLES = os.environ.get("FAULTS_FUZZ_EXAMPLES", "50")
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
LOGOUT_PATH = "/api/v1/auth/logout/"


def main() -> int:
    report = Report("fuzz_api")
    if not SCHEMATHESIS.exists():
        report.step("schemathesis is not installed: .venv/bin/pip install -e '.[dev]'")
        report.check("schemathesis ran", False, "not installed")
        return report.finish()
    with fault_database("fuzz_api", report) as db_url:
        setup_django(base_env(db_url))
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.utils import timezone

        from accounts.tokens import issue_token
        from catalog.models import Product
        from orders.models import Cart, CartLine, Order, OrderLine

        user = get_user_model().objects.create_user(email="fuzz@example.com", password="x" * 20)
        token = issue_token(user)
        usd = Product.objects.create(
            sku="FUZZ-1",
            name="Fuzz",
            description="x",
            unit_amount=1200,
            currency="usd",
            # The seeded order below holds one unit, as POST orders/ would have reserved it
            # (a cancel releases it; without it the release broke the reserved >= 0 check).
            stock=999,
            reserved=1,
            active=True,
        )
        Product.objects.create(
            sku="FUZZ-2",
            name="Fuzz yen",
            description="x",
            unit_amount=500,
            currency="jpy",
            stock=1000,
            active=True,
        )
        cart = Cart.objects.create(user=user, currency="usd")
        CartLine.objects.create(cart=cart, product=usd, quantity=1)
        order = Order.objects.create(
            user=user,
            email=user.email,
            currency="usd",
            subtotal=1200,
            total=1200,
            reserved_until=timezone.now() + timezone.timedelta(hours=2),
        )
        OrderLine.objects.create(
            order=order,
            product=usd,
            sku=usd.sku,
            name=usd.name,
            unit_amount=1200,
            quantity=1,
            line_total=1200,
        )
        ids = {"id": order.pk, "product_id": usd.pk, "line_id": cart.lines.get().pk}
        connection.close()
        shop = Shop(db_url, emulator=True)
        try:
            command = [
                str(SCHEMATHESIS),
                "run",
                f"{shop.url}/api/v1/schema/",
                "--url",
                f"{shop.url}",
                "-H",
                f"Authorization: Token {token}",
                "-c",
                "not_a_server_error,response_schema_conformance",
                "-n",
                EXAMPLES,
                "--seed",
                "8",
                "--request-timeout",
                "20",
                "--no-color",
                # Logging out would revoke the shopper's token and turn every later
                # operation into a 401; the hostile phase sends it with tokens of its own.
                "--exclude-path",
                LOGOUT_PATH,
            ]
            report.step(
                f"schemathesis run {shop.url}/api/v1/schema/ -n {EXAMPLES} (checks: "
                "not_a_server_error, response_schema_conformance)"
            )
            # schemathesis keeps a cache in its working directory: a temp dir, not the tree.
            done = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, timeout=900, cwd=shop.log_dir, check=False
            )
            out = done.stdout + done.stderr
            print(out[-12000:], flush=True)
            summary = re.findall(r"^.*(?:passed|failed|errored).*$", out, re.M)[-3:]
            report.check(
                "no 5xx and no response that breaks the schema (schemathesis exit 0)",
                done.returncode == 0,
                f"exit {done.returncode}; {' | '.join(s.strip() for s in summary)}",
            )
            server_errors = re.findall(r"\s(5\d\d) ", shop.web.output(2_000_000))
            report.step(f"5xx lines in gunicorn's log: {len(server_errors)}")
            hostile(report, shop.url, token, ids, fresh_token=lambda: issue_token(user))
        finally:
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


# --- hostile bodies ------------------------------------------------------------------------
DEEP_30KB = b"[" * 15_000 + b"]" * 15_000


def _nested(depth: int) -> bytes:
    text = "{}"
    for _ in range(depth - 1):
        text = f'{{"a": {text}}}'
    return text.encode()


WRONG_VALUES = [None, True, "x", "", -1, 0, 2**62, 1.5, [], {}, [1], {"a": 1}, "\u0000"]
RAW_BODIES = {
    "deep 30 KB": DEEP_30KB,
    "deep 65 levels": _nested(65),
    "not UTF-8": b'{"a": "\xff\xfe"}',
    "NUL escape": b'{"email": "a\\u0000@example.com", "quantity": 1, "a\\u0000": 1}',
    "lone surrogate": b'{"email": "\\ud800@example.com", "product_id": "\\udc00"}',
    "1e400": b'{"product_id": 1e400, "quantity": 1e400}',
    "10**5000": b'{"product_id": ' + b"1" * 5000 + b', "quantity": 1}',
    "2**63": b'{"product_id": 9223372036854775808, "quantity": 9223372036854775808}',
    "NaN": b'{"product_id": NaN, "quantity": Infinity}',
    "huge string": json.dumps({"email": "x" * 200_000, "reason": "y" * 200_000}).encode(),
    "not JSON": b"{not json",
    "array": b"[1, 2, 3]",
    "empty": b"",
    "escaped quotes, no end": ('"' + '\\"' * 50_000).encode(),
}


def _send(url: str, method: str, body: bytes | None, headers: dict) -> tuple[int, bytes, float]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.monotonic() - started


def _fields(operation: dict, schemas: dict) -> list[str]:
    """The top-level fields of an operation's JSON request body, from the schema."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return list(schema.get("properties", {}))


def _signed(body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}


def _event(obj: dict | list, **top) -> bytes:
    return json.dumps(
        {
            "id": f"evt_fuzz_{time.monotonic_ns()}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            **top,
        }
    ).encode()


def _webhook_bodies() -> dict[str, tuple[bytes, dict]]:
    pi = {"id": "pi_fuzz", "object": "payment_intent", "amount": 100, "currency": "usd"}
    bodies = {
        "signed deep 30 KB": DEEP_30KB,
        "signed deep 65 levels": _event(json.loads(_nested(65))),
        "signed NUL": _event({**pi, "description": "a\u0000b", "metadata": {"k\u0000": "v"}}),
        # json.dumps escapes the backslash; the body must carry the \ud800 escape itself.
        "signed lone surrogate": _event({**pi, "description": "SURROGATE"}).replace(
            b"SURROGATE", b"\\ud800"
        ),
        "signed over-long id": _event(pi, id="evt_" + "x" * 5000),
        "signed over-long type": _event(pi, type="x" * 5000),
        "signed created 10**18": _event(pi, created=10**18),
        "signed id as a number": _event({**pi, "id": 12345, "metadata": {"order_id": "9" * 40}}),
        "signed metadata as a list": _event({**pi, "metadata": ["order_id"]}),
        "signed data.object as a list": _event([pi]),
        "signed 1e400": _event({**pi, "amount": 1}).replace(b'"amount": 1', b'"amount": 1e400'),
        "signed not UTF-8": _event({**pi, "description": "NAME"}).replace(b"NAME", b"\xff"),
        "signed not JSON": b"{not json",
    }
    sent = {name: (body, _signed(body)) for name, body in bodies.items()}
    body = _event(pi)
    sent["future timestamp"] = (body, _signed(body, int(time.time()) + 3600))
    sent["forged"] = (body, {"Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}"})
    return sent


def _is_error_body(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return isinstance(body, dict) and set(body) == {"error"} and "code" in body["error"]


def hostile(report: Report, base: str, token: str, ids: dict, fresh_token) -> None:
    """Every operation, every hostile body: 4xx with the error body (or 2xx), never 5xx."""
    _, raw, _ = _send(f"{base}/api/v1/schema/?format=json", "GET", None, {})
    schema = json.loads(raw)
    schemas = schema.get("components", {}).get("schemas", {})
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    server_errors, bad_bodies, slow, sent = [], [], [], 0

    def check(label: str, status: int, content: bytes, seconds: float) -> None:
        if seconds > 5:
            slow.append(f"{label} took {seconds:.1f} s")
        if status >= 500:
            server_errors.append(f"{label} -> {status}")
        elif status >= 400 and not _is_error_body(content):
            bad_bodies.append(f"{label} -> {status} {content[:80]!r}")

    for path, item in schema.get("paths", {}).items():
        row = ids["line_id"] if "/cart/lines/" in path else ids["id"]
        url = base + re.sub(r"\{(\w+)\}", lambda m, row=row: str(ids.get(m.group(1), row)), path)
        for method, operation in item.items():
            if method not in {"post", "put", "patch", "delete"}:
                continue
            bodies = dict(RAW_BODIES)
            for field in _fields(operation, schemas):
                for value in WRONG_VALUES:
                    bodies[f"{field}={value!r:.20}"] = json.dumps({field: value}).encode()
            anonymous = {"Content-Type": "application/json"}
            for name, body in bodies.items():
                keyed = {**auth, "Idempotency-Key": f"fuzz-{time.monotonic_ns()}"}
                if path == LOGOUT_PATH:  # a token of its own, so the shopper's stays valid
                    keyed["Authorization"] = f"Token {fresh_token()}"
                label = f"{method.upper()} {path} {name}"
                check(label, *_send(url, method.upper(), body, keyed))
                check(f"{label} (anonymous)", *_send(url, method.upper(), body, anonymous))
                sent += 2
    # The webhook is a plain Django view (not in the OpenAPI schema): signed hostile events.
    webhook = f"{base}/api/v1/webhooks/stripe/"
    for name, (body, headers) in _webhook_bodies().items():
        headers = {**headers, "Content-Type": "application/json"}
        check(f"POST /api/v1/webhooks/stripe/ {name}", *_send(webhook, "POST", body, headers))
        sent += 1
    report.step(f"hostile bodies sent: {sent}")
    status, _, _ = _send(f"{base}/api/v1/cart/", "GET", None, auth)
    report.check(
        "the shopper's token still works after the fuzzing (every operation was reached)",
        status == 200,
        f"GET /api/v1/cart/ -> {status}",
    )
    for line in server_errors[:40]:
        report.step(f"5xx: {line}")
    for line in bad_bodies[:20]:
        report.step(f"no error body: {line}")
    report.check(
        "no 5xx for hostile bodies (deep nesting, NUL, huge numbers, wrong types, not UTF-8)",
        not server_errors,
        f"{len(server_errors)} of {sent}",
    )
    report.check("every hostile refusal has the error body", not bad_bodies, f"{len(bad_bodies)}")
    for line in slow[:20]:
        report.step(f"slow: {line}")
    report.check("every hostile body is answered within 5 s", not slow, f"{len(slow)} slow")


if __name__ == "__main__":
    sys.exit(main())
