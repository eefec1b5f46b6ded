#!/usr/bin/env python
"""Stripe fails 30 % of API calls during 1 000 checkouts; clients retry; reconcile repairs.

FAULTS_FLAKY_CHECKOUTS (1 000) checkouts by 50 shoppers, 8 at a time, through the
storefront API against the Stripe emulator: create the order, start a PaymentIntent (odd
orders) or a Checkout Session (even orders), then pay it as Stripe.js / the hosted page
would (9 in 10; the tenth shopper walks away). Every request is retried with the same
Idempotency-Key on 5xx, 429 and timeouts (at most 8 tries, honouring Retry-After up to 1 s).

The emulator can fail only "the next N calls", so a controller thread reads the emulator's
request log and keeps faults armed for 30 % of the API calls made so far: 500, 429 and
timeouts (4 s hang against a 2 s read timeout), half before Stripe does the work and half
after (the work is done, the answer lost). The first 30 webhook events are dropped as well,
so that reconciliation has work to do.

Invariants: no order has two PaymentIntents or two Checkout Sessions at the emulator (and
one attempt here); after `manage.py reconcile --fix` every order matches the emulator's
truth (paid exactly when its payment succeeded there), and a second `reconcile` finds no
mismatch.
"""

import concurrent.futures
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict

import requests
from harness import PUBLISHABLE_KEY, Shop, base_env, fault_database, setup_django
from reporting import Report

CHECKOUTS = int(os.environ.get("FAULTS_FLAKY_CHECKOUTS", "1000"))
SHOPPERS, CLIENTS, FAULT_SHARE, MAX_TRIES = 50, 8, 0.30, 8
API_LINE = re.compile(r"(?:GET|POST|DELETE) /v1/\S+ (\d+)")
RETRYABLE = {409, 429, 500, 502, 503, 504}


class Client:
    """A shopper's front end that retries like a careful one: same key, bounded tries."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {token}"
        self.errors = Counter()

    def post(self, path: str, body: dict) -> requests.Response | None:
        key = uuid.uuid4().hex
        for _ in range(MAX_TRIES):
            try:
                answer = self.http.post(
                    f"{self.base}/api/v1/{path}",
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=15,
                )
            except requests.RequestException as exc:
                self.errors[type(exc).__name__] += 1
                continue
            if answer.status_code not in RETRYABLE:
                return answer
            self.errors[answer.status_code] += 1
            time.sleep(min(1.0, float(answer.headers.get("Retry-After") or 0.2)))
        return None


def stripe_js_confirm(emulator_url: str, started: dict, errors: Counter) -> bool:
    for _ in range(MAX_TRIES):
        try:
            answer = requests.post(
                f"{emulator_url}/v1/payment_intents/{started['payment_intent_id']}/confirm",
                data={"client_secret": started["client_secret"], "payment_method": "pm_card_visa"},
                headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"},
                timeout=2,
            )
        except requests.RequestException as exc:
            errors[f"confirm {type(exc).__name__}"] += 1
            continue
        if answer.status_code == 200:
            return True
        if answer.status_code == 400 and "unexpected_state" in answer.text:
            return True  # an "after" fault: confirmed, the answer was lost
        errors[f"confirm {answer.status_code}"] += 1
    return False


def main() -> int:
    report = Report("flaky_stripe")
    with fault_database("flaky_stripe", report) as db_url:
        setup_django(base_env(db_url))
        from django.contrib.auth import get_user_model
        from django.db import connection

        from accounts.tokens import issue_token
        from catalog.models import Product

        users = get_user_model().objects.bulk_create(
            [get_user_model()(email=f"flaky-{n}@example.com") for n in range(SHOPPERS)]
        )
        tokens = [issue_token(u) for u in users]
        product = Product.objects.create(
            sku="FLAKY-1",
            name="Flaky item",
            description="x",
            unit_amount=2500,
            currency="usd",
            stock=CHECKOUTS + 10,
            active=True,
        )
        connection.close()

        shop = Shop(
            db_url,
            emulator=True,
            emulator_args=[
                "--hang-seconds",
                "4",
                "--retry-base-seconds",
                "0.5",
                "--max-delivery-attempts",
                "8",
            ],
            STRIPE_READ_TIMEOUT="2",
            STRIPE_BREAKER_COOLDOWN_SECONDS="2",
        )
        emulator = shop.emulator
        stop = threading.Event()
        armed = Counter()
        try:
            emulator.control("POST", "/webhooks/modes", {"mode": "drop", "count": 30})
            report.step(f"shop and emulator up; {CHECKOUTS} checkouts, {CLIENTS} clients")
            rng = random.Random(30)  # noqa: S311 (reproducible fault mix, not a secret)

            def controller():
                """Keep faults armed for 30 % of the API calls made so far."""
                while not stop.is_set():
                    calls = len(API_LINE.findall(emulator.output(tail=50_000_000)))
                    want = int(FAULT_SHARE * (calls + 10))
                    while sum(armed.values()) < want:
                        kind = rng.choice(["500", "429", "timeout"])
                        when = rng.choice(["before", "after"])
                        emulator.control(
                            "POST", "/faults", {"kind": kind, "when": when, "count": 1}
                        )
                        armed[(kind, when)] += 1
                    stop.wait(0.1)

            control_thread = threading.Thread(target=controller, daemon=True)
            control_thread.start()
            outcomes = Counter()
            client_errors = Counter()
            lock = threading.Lock()

            def checkout(n: int):
                client = Client(shop.url, tokens[n % SHOPPERS])
                made = client.post(
                    "orders/", {"lines": [{"product_id": product.pk, "quantity": 1}]}
                )
                if made is None or made.status_code != 201:
                    return f"order not created ({made.status_code if made else 'gave up'})"
                order_id = made.json()["id"]
                kind = "payment-intent" if n % 2 else "checkout-session"
                started = client.post(f"orders/{order_id}/{kind}/", {})
                with lock:
                    client_errors.update(client.errors)
                if started is None or started.status_code != 201:
                    return f"{kind} not started ({started.status_code if started else 'gave up'})"
                if n % 10 == 9:
                    return "walked away"
                body = started.json()
                if kind == "payment-intent":
                    paid = stripe_js_confirm(emulator.url, body, client_errors)
                else:
                    status, _ = emulator.control(
                        "POST",
                        f"/checkout_sessions/{body['checkout_session_id']}/pay",
                        {"card": "4242424242424242"},
                    )
                    paid = status == 200
                return "paid at Stripe" if paid else "pay gave up"

            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                for result in pool.map(checkout, range(CHECKOUTS)):
                    outcomes[result.split(" (")[0]] += 1
            stop.set()
            control_thread.join(5)
            emulator.control("DELETE", "/faults")
            statuses = Counter(API_LINE.findall(emulator.output(tail=50_000_000)))
            calls = sum(statuses.values())
            failed = statuses["500"] + statuses["429"] + statuses["0"]
            report.step(f"checkouts: {dict(outcomes)}")
            report.step(f"client saw and retried: {dict(client_errors)}")
            report.step(
                f"emulator: {calls} API calls, {failed} failed ({100 * failed / max(1, calls):.0f}"
                f" %: {statuses['500']} x 500, {statuses['429']} x 429, {statuses['0']} timeouts);"
                f" faults armed {dict(armed)}"
            )
            report.check(
                "about 30 % of Stripe API calls failed during the load",
                0.2 <= failed / max(1, calls) <= 0.4,
                f"{failed}/{calls}",
            )

            # Let the emulator's webhook retries finish, then look at both sides.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                _, hooks = emulator.control("GET", "/webhooks")
                if hooks.get("queued") == 0 and hooks.get("held") == 0:
                    break
                time.sleep(1)
            time.sleep(5)
            intents = emulator.list_all("payment_intents")
            sessions = emulator.list_all("checkout/sessions")
            from orders.models import Order
            from payments.models import PaymentAttempt

            orders = {o.pk: o for o in Order.objects.all()}
            session_pis = {s.get("payment_intent") for s in sessions if s.get("payment_intent")}
            pis_by_order = defaultdict(list)
            sessions_by_order = defaultdict(list)
            for pi in intents:
                if pi["id"] not in session_pis:
                    pis_by_order[int(pi["metadata"].get("order_id", 0))].append(pi)
            for cs in sessions:
                sessions_by_order[int(cs["metadata"].get("order_id", 0))].append(cs)
            doubled = [
                o for o in orders if len(pis_by_order[o]) > 1 or len(sessions_by_order[o]) > 1
            ]
            attempts = Counter(PaymentAttempt.objects.values_list("order_id", flat=True))
            report.check(
                "no order has two PaymentIntents or two Checkout Sessions at the emulator",
                not doubled,
                f"{len(orders)} orders; {len(intents)} PaymentIntents, {len(sessions)} Sessions; "
                f"doubled: {doubled[:5]}",
            )
            report.check(
                "one payment attempt per order here",
                set(attempts.values()) <= {1},
                f"{sum(attempts.values())} attempts for {len(attempts)} orders",
            )

            def truth(order_id: int) -> bool:
                paid = [
                    pi
                    for pi in intents
                    if pi["metadata"].get("order_id") == str(order_id)
                    and pi["status"] == "succeeded"
                ]
                return bool(paid)

            def differences() -> list:
                connection.close()
                out = []
                for order in Order.objects.all():
                    if (order.status == "paid") != truth(order.pk):
                        out.append((order.pk, order.status, truth(order.pk)))
                return out

            before = differences()
            report.step(f"before reconcile: {len(before)} order(s) differ from the emulator")
            fixed = shop.manage("reconcile", "--fix", timeout=300)
            lines = (fixed.stdout + fixed.stderr).splitlines()
            report.step(
                f"reconcile --fix exit {fixed.returncode}: "
                f"{sum('MISMATCH' in line for line in lines)} mismatch line(s); last: {lines[-3:]}"
            )
            time.sleep(5)  # the fixes' own e-mails and mirror tasks
            after = differences()
            report.check(
                "after reconcile --fix every order matches the emulator (paid iff paid there)",
                not after and fixed.returncode == 0,
                f"{len(before)} differed before, {len(after)} after: {after[:5]}",
            )
            again = shop.manage("reconcile", timeout=300)
            left = [line for line in again.stdout.splitlines() if "MISMATCH" in line]
            report.check(
                "a second reconcile finds no mismatch",
                not left and again.returncode == 0,
                f"{len(left)} left: {left[:3]}",
            )
            statuses_here = Counter(o.status for o in Order.objects.all())
            report.step(f"orders here: {dict(statuses_here)}")
        finally:
            stop.set()
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
