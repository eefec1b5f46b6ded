#!/usr/bin/env python
"""Restart PostgreSQL during a load: errors or 503s, never a wrong state; Stripe completes.

A private cluster (`initdb` into a temp dir, run as the `postgres` user when we are root,
on a free port, loopback only) gets the migrated schema (`pg_dump` of `faults_template`).
The machine's own PostgreSQL is never touched. The whole shop runs on it with the Stripe
emulator delivering webhooks (retries 1, 2, 4 ... 64 s).

FAULTS_PG_CLIENTS (4) shoppers check out in a loop for FAULTS_PG_LOAD_SECONDS (60):
create an order, start a PaymentIntent, confirm it as Stripe.js does, each request tried
once. 20 s in, PostgreSQL stops (`pg_ctl stop -m fast`), stays down 10 s and starts again.

Invariants: while it is down clients get errors (5xx or a refused connection), never a 2xx
for something that was not stored: every 201 order exists afterwards; after it returns, the
emulator's webhook retries alone (no reconcile) bring every order whose PaymentIntent
succeeded at the emulator to `paid`, and no other; no order has two PaymentIntents; stock
sold equals the paid orders.
"""

import concurrent.futures
import os
import sys
import threading
import time
import uuid
from collections import Counter

import requests
from harness import (
    PG_SERVER,
    PUBLISHABLE_KEY,
    TEMPLATE,
    Shop,
    base_env,
    ensure_template,
    setup_django,
)
from reporting import Report

from devstack import PostgresCluster, WaitTimedOut, wait_until

CLIENTS = int(os.environ.get("FAULTS_PG_CLIENTS", "4"))
LOAD_SECONDS = float(os.environ.get("FAULTS_PG_LOAD_SECONDS", "60"))
DOWN_AT, DOWN_FOR = 20.0, 10.0


def main() -> int:
    report = Report("postgres_restart")
    ensure_template(report)
    pg = PostgresCluster(prefix="faults-pg-").init()
    pg.pg_ctl("start")
    report.step(f"private PostgreSQL cluster on 127.0.0.1:{pg.port} ({pg.data})")
    shop = None
    try:
        db_url = pg.copy_schema(f"{PG_SERVER}/{TEMPLATE}", "shop")
        report.step("schema loaded from faults_template (pg_dump | psql)")
        setup_django(base_env(db_url))
        from django.contrib.auth import get_user_model
        from django.db import connection

        from accounts.tokens import issue_token
        from catalog.models import Product

        users = get_user_model().objects.bulk_create(
            [get_user_model()(email=f"pg-{n}@example.com") for n in range(CLIENTS)]
        )
        tokens = [issue_token(u) for u in users]
        product = Product.objects.create(
            sku="PG-1",
            name="Restart item",
            description="x",
            unit_amount=2500,
            currency="usd",
            stock=100_000,
            active=True,
        )
        connection.close()

        shop = Shop(
            db_url,
            emulator=True,
            emulator_args=["--retry-base-seconds", "1", "--max-delivery-attempts", "8"],
        )
        shop.worker.supervise(report.step)
        report.step(f"shop up on the private cluster: {shop.url}")
        window = {}
        seen = []  # (t, step, status)
        created = []  # order ids answered 201
        lock = threading.Lock()
        start = time.monotonic()

        def restart():
            time.sleep(DOWN_AT)
            window["down"] = time.monotonic()
            pg.pg_ctl("stop", "-m", "fast")
            report.step("PostgreSQL stopped (pg_ctl stop -m fast)")
            time.sleep(DOWN_FOR)
            pg.pg_ctl("start")
            window["up"] = time.monotonic()
            report.step("PostgreSQL started again")

        def shopper(n: int):
            http = requests.Session()
            http.headers["Authorization"] = f"Token {tokens[n]}"

            def note(step, status):
                with lock:
                    seen.append((time.monotonic(), step, status))

            while time.monotonic() - start < LOAD_SECONDS:
                try:
                    made = http.post(
                        f"{shop.url}/api/v1/orders/",
                        json={"lines": [{"product_id": product.pk, "quantity": 1}]},
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                        timeout=15,
                    )
                    note("order", made.status_code)
                    if made.status_code != 201:
                        time.sleep(0.5)
                        continue
                    order_id = made.json()["id"]
                    with lock:
                        created.append(order_id)
                    started = http.post(
                        f"{shop.url}/api/v1/orders/{order_id}/payment-intent/",
                        json={},
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                        timeout=15,
                    )
                    note("payment-intent", started.status_code)
                    if started.status_code != 201:
                        continue
                    body = started.json()
                    confirmed = requests.post(
                        f"{shop.emulator.url}/v1/payment_intents/{body['payment_intent_id']}"
                        "/confirm",
                        data={
                            "client_secret": body["client_secret"],
                            "payment_method": "pm_card_visa",
                        },
                        headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"},
                        timeout=10,
                    )
                    note("confirm", confirmed.status_code)
                except requests.RequestException as exc:
                    note("error", type(exc).__name__)
                    time.sleep(0.5)

        planner = threading.Thread(target=restart)
        planner.start()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(shopper, range(CLIENTS)))
        planner.join(60)
        during = Counter(
            f"{step} {status}"
            for t, step, status in seen
            if window["down"] <= t <= window["up"] + 2
        )
        overall = Counter(f"{step} {status}" for _, step, status in seen)
        report.step(f"answers while down (and 2 s after): {dict(during)}")
        report.step(f"answers over the run: {dict(overall)}")
        ok_during = sum(c for k, c in during.items() if k.endswith(" 201") or k.endswith(" 200"))
        errors_during = sum(during.values()) - ok_during
        report.check(
            "clients saw errors or 503s while PostgreSQL was down",
            errors_during > 0,
            f"{errors_during} failed answers, {ok_during} successful ones around the outage",
        )

        # The emulator's retries must complete every order by themselves.
        def settled() -> bool:
            _, hooks = shop.emulator.control("GET", "/webhooks")
            return hooks.get("queued") == 0 and hooks.get("held") == 0

        from orders.models import Order
        from payments.models import PaymentAttempt, WebhookEvent

        def drained() -> bool:
            # The worker may still be working through what piled up while it could not
            # write: the checks look at the state once it is done (or the wait gives up).
            return settled() and not WebhookEvent.objects.filter(status="received").exists()

        try:
            wait_until(settled, timeout=180, interval=1, what="the emulator's deliveries")
            wait_until(drained, timeout=180, interval=1, what="the worker's backlog")
        except WaitTimedOut as exc:
            report.step(str(exc))
        report.step("the emulator has delivered everything and the worker has drained the inbox")
        time.sleep(2)

        intents = shop.emulator.list_all("payment_intents")
        succeeded = {
            pi["metadata"].get("order_id") for pi in intents if pi["status"] == "succeeded"
        }
        per_order = Counter(pi["metadata"].get("order_id") for pi in intents)
        orders = {o.pk: o for o in Order.objects.all()}
        missing = [o for o in created if o not in orders]
        report.check(
            "every order answered 201 exists (no success for something not stored)",
            not missing,
            f"{len(created)} answered 201, {len(missing)} missing",
        )
        wrong = [
            (pk, o.status)
            for pk, o in orders.items()
            if (o.status == "paid") != (str(pk) in succeeded)
        ]
        paid_here = sum(o.status == "paid" for o in orders.values())
        report.check(
            "after the restart the emulator's retries alone paid exactly the orders paid at Stripe",
            not wrong and len(succeeded) > 0,
            f"{len(succeeded)} paid at the emulator, {paid_here} paid here; wrong: {wrong[:5]}",
        )
        report.check(
            "no order has two PaymentIntents, nor two attempts",
            max(per_order.values(), default=0) <= 1
            and max(
                Counter(PaymentAttempt.objects.values_list("order_id", flat=True)).values(),
                default=0,
            )
            <= 1,
            f"{len(intents)} PaymentIntents for {len(orders)} orders",
        )
        product.refresh_from_db()
        paid = sum(o.status == "paid" for o in orders.values())
        pending = sum(o.status == "pending_payment" for o in orders.values())
        report.check(
            "stock: sold equals paid orders, reserved equals pending ones",
            product.sold == paid and product.reserved == pending,
            f"sold {product.sold} / paid {paid}, reserved {product.reserved} / pending {pending}",
        )
        inbox = Counter(WebhookEvent.objects.values_list("status", flat=True))
        report.check(
            "no inbox event left received or failed",
            not inbox.get("received") and not inbox.get("failed"),
            f"{dict(inbox)}",
        )
        deliveries = Counter(
            (d["outcome"], d["status"])
            for d in shop.emulator.control("GET", "/deliveries")[1]["data"]
        )
        report.step(f"emulator deliveries (outcome, status): {dict(deliveries)}")
        if shop.worker.crashes:
            report.step(f"FINDING: the worker died {len(shop.worker.crashes)} time(s)")
        connection.close()
    finally:
        if shop is not None:
            shop.stop()
        from django.db import connections

        connections.close_all()
        pg.destroy()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
