"""Timings for bench/scale.py, in-process: `python -m bench.scale_probe <label> <repeats> <plans>`.

Run with the benchmark's environment. Measures, `repeats` times each (median and p90):
- processing one `payment_intent.succeeded` event for a pending order (store + process);
- the admin order list (/admin/orders/order/) as a superuser;
- an order's admin page (/admin/orders/order/<id>/change/).
Writes the SQL of the last run of each and EXPLAIN (ANALYZE) of its queries that read the
big tables to the file <plans>. Prints one JSON line.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from bench import processing as bench_processing  # noqa: E402
from orders.models import Order  # noqa: E402
from payments.webhooks import inbox, processing  # noqa: E402

BIG = ("orders_order", "payments_webhookevent", "payments_paymentattempt", "orders_orderline")


def timed(fn, repeats):
    times, queries = [], None
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        queries = [q["sql"] for q in captured.captured_queries]
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "queries": len(queries),
    }, queries


def explain(queries) -> list[str]:
    out = []
    for sql in queries:
        lowered = sql.lower()
        if not lowered.startswith("select") or not any(t in lowered for t in BIG):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        out.append(f"{sql[:600]}\n{plan}\n")
    return out


def main(label: str, repeats: int, plans_file: str) -> dict:
    staff = User.objects.filter(is_superuser=True).first()
    if staff is None:
        staff = User.objects.create_superuser(email="bench-staff@example.com", password="x" * 20)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(staff)
    pending = iter(
        Order.objects.filter(status="pending_payment", number__startswith="P")
        .order_by("-id")
        .values_list("id", "total")[: repeats + 5]
    )
    bodies = iter(bench_processing.event_bodies(list(pending), f"probe{label}"))

    def process_one():
        event_pk, _ = inbox.store_event(json.loads(next(bodies)))
        assert processing.process(event_pk) == processing.DONE

    def order_list():
        answer = client.get("/admin/orders/order/")
        assert answer.status_code == 200, answer.status_code

    order_id = Order.objects.order_by("-id").values_list("id", flat=True).first()

    def order_page():
        answer = client.get(f"/admin/orders/order/{order_id}/change/")
        assert answer.status_code == 200, answer.status_code

    results, plans = {}, []
    order_list()
    order_page()  # warm templates and caches
    for name, fn in (("process_event", process_one), ("admin_order_list", order_list)):
        results[name], queries = timed(fn, repeats)
        plans.append(f"===== {name} ({label})\n" + "\n".join(explain(queries)))
    results["admin_order_page"], queries = timed(order_page, repeats)
    plans.append(f"===== admin_order_page ({label})\n" + "\n".join(explain(queries)))
    Path(plans_file).write_text("\n".join(plans))
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
