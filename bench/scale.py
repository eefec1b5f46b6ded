"""Scale: processing one event, the admin order list and an order's admin page with 1 M
orders and 2 M webhook events loaded, against the same on an empty database (target:
within 1.2x), with the query plans (scale-plans-{empty,loaded}.txt beside the results).

The generator is bench/seed.py (SQL generate_series): paid orders with a line and a
succeeded attempt, and processed ~2 KB `payment_intent.succeeded` events, two per order.
The timings are in-process (bench/scale_probe.py: Django's test client and
processing.process), so they measure the database and the code, not the HTTP server.
"""

import json
import subprocess
import time

from bench import common, seed
from bench.common import log

REPEATS = 30


def plans_path(label: str):
    return common.output_path(f"scale-plans-{label}.txt")


def probe(env, label: str) -> dict:
    out = subprocess.run(
        [common.PY, "-m", "bench.scale_probe", label, str(REPEATS), str(plans_path(label))],
        cwd=common.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"scale_probe failed: {out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"{label}: {result}")
    return result


def run(opts) -> dict:
    common.create_database()
    redis = common.redis()
    env = common.base_env(REDIS_URL=redis.url, MIRROR_STRIPE_OBJECTS="false")
    seed.seed_orders(3 * (REPEATS + 5), prefix="P")
    common.psql("ANALYZE", common.DB)
    results = {"orders": opts.orders, "events": 2 * opts.orders, "repeats": REPEATS}
    results["empty"] = probe(env, "empty")

    started = time.monotonic()
    step = 200_000
    for first in range(0, opts.orders, step):
        seed.seed_orders(min(step, opts.orders - first), start=first, status="paid")
        log(f"{first + step} orders")
    seed.seed_history(2 * opts.orders)
    common.psql("VACUUM ANALYZE", common.DB, timeout=3600)
    results["seed_seconds"] = time.monotonic() - started
    results["sizes"] = common.psql(
        "SELECT relname || '=' || n_live_tup FROM pg_stat_user_tables WHERE relname IN "
        "('orders_order', 'payments_webhookevent', 'orders_orderline', "
        "'payments_paymentattempt') ORDER BY 1",
        common.DB,
    ).split()
    log(f"loaded in {results['seed_seconds']:.0f} s: {results['sizes']}")
    results["loaded"] = probe(env, "loaded")
    redis.stop()
    return results


def report(results: dict, machine: dict) -> str:
    rows = []
    for name in ("process_event", "admin_order_list", "admin_order_page"):
        empty, loaded = results["empty"][name], results["loaded"][name]
        ratio = loaded["median_ms"] / empty["median_ms"]
        rows.append(
            [
                name,
                f"{empty['median_ms']:.1f} / {empty['p90_ms']:.1f}",
                f"{loaded['median_ms']:.1f} / {loaded['p90_ms']:.1f}",
                f"{empty['queries']} / {loaded['queries']}",
                f"{ratio:.2f}x",
                "yes" if ratio <= 1.2 else "NO",
            ]
        )
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    return "\n".join(
        [
            f"### Scale ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`; loaded: {', '.join(results['sizes'])} "
            f"(generated in {results['seed_seconds']:.0f} s); median of {results['repeats']}.\n",
            common.table(
                [
                    "operation",
                    "empty median / p90 ms",
                    "loaded median / p90 ms",
                    "queries empty / loaded",
                    "loaded / empty",
                    "within 1.2x",
                ],
                rows,
            ),
            "",
            "Query plans: "
            + ", ".join(f"[{p.name}]({p.name})" for p in map(plans_path, ("empty", "loaded")))
            + ".",
        ]
    )
