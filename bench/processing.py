"""Processing: events a Celery worker process applies end to end (inbox row -> order paid),
and the receive-to-processed lag at a steady load.

1. Throughput: N `payment_intent.succeeded` events for N pending orders are delivered
   through the webhook endpoint (gunicorn) while no worker runs; then one worker process
   (`-P solo`, the unit a deployment multiplies) starts and drains the queue. Rate =
   events / (last handled_at - first handled_at); every order must end `paid`.
2. Lag: a worker runs while events arrive at a fixed rate (about half the measured
   throughput, wrk with a per-connection pause); lag = handled_at - received_at.
Mirroring into dj-stripe's tables (MIRROR_STRIPE_OBJECTS) is off: it is a separate task
that calls Stripe, not part of "order paid".
"""

import json
import tempfile
import time
from pathlib import Path

from bench import common, ingest, profile, seed
from bench.common import log

URL_PATH = "/api/v1/webhooks/stripe/"


def event_bodies(orders, tag: str) -> list[bytes]:
    bodies = []
    now = int(time.time())
    for order_id, total in orders:
        obj = {
            "id": f"pi_bench_{order_id}",
            "object": "payment_intent",
            "amount": total,
            "amount_capturable": 0,
            "amount_received": total,
            "capture_method": "automatic",
            "client_secret": f"pi_bench_{order_id}_secret_benchmark",
            "created": now,
            "currency": "usd",
            "customer": "cus_bench",
            "description": f"Order {order_id}",
            "latest_charge": f"ch_bench_{order_id}",
            "livemode": False,
            "metadata": {"order_id": str(order_id), "attempt": "1"},
            "payment_method": "pm_bench",
            "receipt_email": "bench-shopper@example.com",
            "status": "succeeded",
        }
        event = {
            "id": f"evt_{tag}_{order_id}",
            "object": "event",
            "api_version": "2026-08-26.dahlia",
            "created": now,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "payment_intent.succeeded",
        }
        bodies.append(json.dumps(ingest.realistic(event)).encode())
    return bodies


def queued(redis) -> int:
    """Messages waiting in the broker's default queue (kombu: one list per priority)."""
    return redis.queued_messages("celery")


def sql(text: str) -> str:
    return common.psql(text, common.DB)


def run(opts) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-processing-"))
    common.create_database()
    redis = common.redis()
    env = common.base_env(REDIS_URL=redis.url, MIRROR_STRIPE_OBJECTS="false")
    web = common.gunicorn(env)
    count = opts.events
    seed.seed_orders(count)
    orders = seed.pending_orders()
    results = {"events": count}

    # 1. throughput of one worker process, from a full queue
    path = ingest.request_file(workdir, "burst", URL_PATH, event_bodies(orders, "burst"), web.port)
    for _ in range(6):  # again until all are stored (repeats are duplicates: no-ops)
        res = common.wrk(web.url + URL_PATH, path, 8, max(5, count / 150))
        stored = int(sql("SELECT count(*) FROM payments_webhookevent"))
        if stored >= count:
            break
    log(f"{stored} events stored ({res['ok_per_s']:.0f}/s); starting one worker")
    worker = common.celery_worker(env)
    profiler = profile.Profile(worker.pid, "processing-worker") if opts.profile else None
    cpu_start = common.process_cpu_seconds([worker.pid])
    deadline = time.monotonic() + max(120, count / 5)
    while time.monotonic() < deadline:
        left = int(sql("SELECT count(*) FROM payments_webhookevent WHERE status = 'received'"))
        if left == 0:
            break
        time.sleep(0.5)
    first_seen = time.time()
    # then until the broker queue is empty: each payment also queues its e-mail (outbox)
    while time.monotonic() < deadline and queued(redis) > 0:
        time.sleep(0.5)
    time.sleep(1)  # the task the worker holds
    drained_at = time.time()
    cpu = common.process_cpu_seconds([worker.pid]) - cpu_start
    if profiler is not None:
        results["profile"] = profiler.stop()
    first_handled = float(
        sql("SELECT extract(epoch FROM min(handled_at)) FROM payments_webhookevent")
    )
    span, processed = sql(
        "SELECT extract(epoch FROM max(handled_at) - min(handled_at)), count(*) "
        "FROM payments_webhookevent WHERE status = 'processed'"
    ).split("|")
    paid = int(sql("SELECT count(*) FROM orders_order WHERE status = 'paid'"))
    results["throughput"] = {
        "processed": int(processed),
        "orders_paid": paid,
        "seconds": float(span),
        "events_per_s": (int(processed) - 1) / max(float(span), 1e-9),
        "worker_cpu_ms_per_event": cpu * 1000 / max(1, int(processed)),
        # events / (first event applied -> queue empty, the e-mail tasks included)
        "events_per_s_with_emails": int(processed) / max(drained_at - first_handled, 1e-9),
        "queue_empty_after_last_event_s": drained_at - first_seen,
        "worker_rss": common.rss_kib(worker.pid),
        "statuses": sql("SELECT status, count(*) FROM payments_webhookevent GROUP BY 1"),
    }
    log(f"throughput: {results['throughput']}")

    # 2. lag at a steady load of about half that rate (more orders for it)
    rate = results["throughput"]["events_per_s"] / 2
    seconds = max(10.0, opts.seconds * 2)
    more = int(rate * seconds * 1.3) + 10
    seed.seed_orders(more, start=count)
    fresh = seed.pending_orders()
    path = ingest.request_file(workdir, "steady", URL_PATH, event_bodies(fresh, "steady"), web.port)
    conns = 4
    delay = conns * 1000 / rate
    sql("CREATE TABLE IF NOT EXISTS bench_mark (at timestamptz)")
    sql("INSERT INTO bench_mark VALUES (now())")
    res = common.wrk(web.url + URL_PATH, path, conns, seconds, delay_ms=delay)
    time.sleep(3)  # let the last ones finish
    lag_s = "extract(epoch FROM handled_at - received_at)"
    lag = sql(
        f"SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY {lag_s}), "
        f"percentile_cont(0.99) WITHIN GROUP (ORDER BY {lag_s}), max({lag_s}) "
        "FROM payments_webhookevent WHERE received_at > (SELECT at FROM bench_mark) "
        "AND status = 'processed'"
    ).split("|")
    results["lag"] = {
        "offered_rate": rate,
        "arrival_rate": res["ok_per_s"],
        "processed": int(lag[0]),
        "p50_ms": float(lag[1] or 0) * 1000,
        "p99_ms": float(lag[2] or 0) * 1000,
        "max_ms": float(lag[3] or 0) * 1000,
    }
    log(f"lag: {results['lag']}")
    worker.stop()
    web.stop()
    redis.stop()
    return results


def report(results: dict, machine: dict) -> str:
    t, lag = results["throughput"], results["lag"]
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    return "\n".join(
        [
            f"### Processing ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`; one Celery worker process (`-P solo`), "
            f"`payment_intent.succeeded` for pending orders.\n",
            common.table(
                ["measure", "value"],
                [
                    ["events applied (inbox row -> order paid)", t["processed"]],
                    ["orders paid", t["orders_paid"]],
                    ["events/s per worker process (payment applied)", f"{t['events_per_s']:.0f}"],
                    [
                        "events/s per worker process, with each receipt's e-mail task",
                        f"{t['events_per_s_with_emails']:.0f}",
                    ],
                    ["worker CPU per event", f"{t['worker_cpu_ms_per_event']:.1f} ms"],
                    [
                        "steady load (arrivals/s)",
                        f"{lag['arrival_rate']:.0f} (asked {lag['offered_rate']:.0f})",
                    ],
                    ["receive -> processed lag p50", f"{lag['p50_ms']:.0f} ms"],
                    ["receive -> processed lag p99", f"{lag['p99_ms']:.0f} ms"],
                    ["receive -> processed lag max", f"{lag['max_ms']:.0f} ms"],
                ],
            ),
        ]
    )
