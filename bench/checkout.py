"""Checkout: order creation and PaymentIntent creation against the emulator (no added
latency): requests/s and p50/p99 over HTTP through gunicorn, and the SQL queries each
request makes, for carts of 1, 10 and 100 lines (they must not grow with the cart).

Each of `CLIENTS` shoppers (threads, own account and cart) creates orders from its cart
(the cart is kept until an order is paid) and asks for a PaymentIntent for each order.
The query counts come from the same requests made in-process (`bench.checkout_queries`,
Django's test client and CaptureQueriesContext) against the same database and emulator.
"""

import json
import subprocess
import threading
import time
import uuid

import requests

from bench import common
from bench.common import log

CLIENTS = 4
SIZES = (1, 10, 100)


def seed_products(count: int = 100) -> list[int]:
    common.psql(
        "INSERT INTO catalog_product (sku, name, description, unit_amount, currency, stock, "
        "reserved, sold, active, created_at, updated_at) SELECT 'BENCH-' || n, 'Bench item ' || "
        "n, 'A product for the benchmark', 500 + n, 'usd', 1000000000, 0, 0, true, now(), now() "
        f"FROM generate_series(1, {count}) n",
        common.DB,
    )
    ids = common.psql(
        "SELECT id FROM catalog_product WHERE sku LIKE 'BENCH-%' ORDER BY id", common.DB
    )
    return [int(x) for x in ids.split()]


class Shopper:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(
            f"{base}/api/v1/auth/register/",
            json={
                "email": f"bench-{uuid.uuid4().hex[:10]}@example.com",
                "password": "correct horse battery 42",
            },
            timeout=30,
        )
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Token {answer.json()['token']}"

    def post(self, path: str, body=None):
        started = time.perf_counter()
        answer = self.http.post(
            f"{self.base}/api/v1/{path}",
            json=body or {},
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=60,
        )
        return answer, (time.perf_counter() - started) * 1000

    def fill_cart(self, products: list[int]):
        for product in products:
            answer, _ = self.post("cart/lines/", {"product_id": product, "quantity": 1})
            if answer.status_code != 201:
                raise RuntimeError(f"cart line: {answer.status_code} {answer.text}")


def measure(shoppers, orders_each: int, deadline_s: float) -> dict:
    latencies = {"order": [], "payment_intent": []}
    errors = []
    lock = threading.Lock()

    def work(shopper):
        stop = time.monotonic() + deadline_s
        for _ in range(orders_each):
            if time.monotonic() > stop:
                break
            answer, ms = shopper.post("orders/")
            if answer.status_code != 201:
                with lock:
                    errors.append(f"order {answer.status_code} {answer.text[:200]}")
                continue
            order = answer.json()["id"]
            paid, ms2 = shopper.post(f"orders/{order}/payment-intent/")
            with lock:
                latencies["order"].append(ms)
                if paid.status_code == 201:
                    latencies["payment_intent"].append(ms2)
                else:
                    errors.append(f"payment-intent {paid.status_code} {paid.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(s,)) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    out = {"seconds": elapsed, "errors": errors[:5], "error_count": len(errors)}
    for kind, values in latencies.items():
        out[kind] = {
            "count": len(values),
            "p50_ms": common.percentile(values, 50),
            "p99_ms": common.percentile(values, 99),
        }
    # both kinds share the wall clock: requests/s is all checkout requests together
    out["requests_per_s"] = (len(latencies["order"]) + len(latencies["payment_intent"])) / elapsed
    return out


def run(opts) -> dict:
    common.create_database()
    redis = common.redis()
    emulator = common.emulator()
    env = common.base_env(REDIS_URL=redis.url, STRIPE_API_BASE=emulator.url)
    web = common.gunicorn(env)
    products = seed_products()
    results = {"clients": CLIENTS, "workers": web.workers, "sizes": []}
    for size in SIZES:
        shoppers = [Shopper(web.url) for _ in range(CLIENTS)]
        for shopper in shoppers:
            shopper.fill_cart(products[:size])
        before = common.machine_ticks()
        res = measure(shoppers, opts.checkout_orders, deadline_s=max(20, opts.seconds * 3))
        after = common.machine_ticks()
        res["machine_busy"] = (after[0] - before[0]) / max(1, after[1] - before[1])
        out = subprocess.run(
            [common.PY, "-m", "bench.checkout_queries", str(size)],
            cwd=common.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"checkout_queries failed: {out.stderr[-3000:]}")
        res["queries"] = json.loads(out.stdout.strip().splitlines()[-1])
        res["lines"] = size
        results["sizes"].append(res)
        log(
            f"cart {size:3}: {res['requests_per_s']:.1f} req/s, order p50 "
            f"{res['order']['p50_ms']:.1f} p99 {res['order']['p99_ms']:.1f} ms, PI p50 "
            f"{res['payment_intent']['p50_ms']:.1f} p99 {res['payment_intent']['p99_ms']:.1f} ms,"
            f" queries {res['queries']}, errors {res['error_count']}"
        )
    web.stop()
    emulator.stop()
    redis.stop()
    return results


def report(results: dict, machine: dict) -> str:
    rows = []
    for r in results["sizes"]:
        rows.append(
            [
                r["lines"],
                f"{r['requests_per_s']:.1f}",
                f"{r['order']['p50_ms']:.1f} / {r['order']['p99_ms']:.1f}",
                f"{r['payment_intent']['p50_ms']:.1f} / {r['payment_intent']['p99_ms']:.1f}",
                r["queries"]["order"],
                r["queries"]["payment_intent"],
                f"{r['machine_busy']:.0%}",
                r["error_count"],
            ]
        )
    counts = {(r["queries"]["order"], r["queries"]["payment_intent"]) for r in results["sizes"]}
    flat = len(counts) == 1
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    return "\n".join(
        [
            f"### Checkout ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`; gunicorn {results['workers']} sync workers, "
            f"{results['clients']} shoppers at once, emulator with no added latency.\n",
            common.table(
                [
                    "cart lines",
                    "requests/s (both kinds)",
                    "order p50/p99 ms",
                    "payment-intent p50/p99 ms",
                    "SQL queries: order",
                    "SQL queries: payment-intent",
                    "machine busy",
                    "errors",
                ],
                rows,
            ),
            "",
            f"Queries per request constant across cart sizes: {'yes' if flat else 'NO'}.",
        ]
    )
