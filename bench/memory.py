"""Memory: peak RSS (VmHWM) of a gunicorn worker and a Celery worker process as events go
through them, sampled along the way so growth (a leak) shows as a slope.

- gunicorn: `--memory-events` distinct signed events (100 k by default) to the webhook
  endpoint in chunks of 20 k, with RSS of every worker after each chunk.
- Celery: a worker (`-c 2`, prefork) applies `--memory-worker-events` (100 k) events: what
  Stripe sends for each paid PaymentIntent, four events an order (`payment_intent.created`,
  `charge.succeeded`, `payment_intent.succeeded`, `charge.updated`; the three no handler
  applies are stored ignored by the webhook and never reach the worker, the payment pays
  its order). RSS of the worker's processes
  every 5 s, for at most `--memory-worker-seconds`.
"""

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench import common, ingest, processing, seed
from bench.common import log

URL_PATH = "/api/v1/webhooks/stripe/"
CHUNK = 20_000


def run(opts) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    common.create_database()
    redis = common.redis()
    emulator = common.emulator()
    env = common.base_env(
        REDIS_URL=redis.url, STRIPE_API_BASE=emulator.url, MIRROR_STRIPE_OBJECTS="false"
    )
    web = common.gunicorn(env)
    pids = web.child_pids()
    template = ingest.realistic(
        next(
            e
            for e in ingest.emulator_events(emulator.url, 1)
            if e["type"] == "payment_intent.succeeded"
        )
    )
    results = {"gunicorn": [], "celery": []}
    results["gunicorn"].append({"events": 0, "workers": [common.rss_kib(p) for p in pids]})
    sent = 0
    deadline = time.monotonic() + opts.memory_seconds
    while sent < opts.memory_events and time.monotonic() < deadline:
        size = min(CHUNK, opts.memory_events - sent)
        bodies = ingest.distinct_bodies(template, size, f"m{sent}x")
        path = ingest.request_file(workdir, "chunk", URL_PATH, bodies, web.port)
        # wrk runs by time: give it the chunk's worth, then count what was stored
        before = int(common.psql("SELECT count(*) FROM payments_webhookevent", common.DB))
        res = common.wrk(web.url + URL_PATH, path, 16, max(3, size / 250))
        stored = int(common.psql("SELECT count(*) FROM payments_webhookevent", common.DB))
        sent += stored - before
        sample = {
            "events": sent,
            "rate": res["ok_per_s"],
            "workers": [common.rss_kib(p) for p in pids],
        }
        results["gunicorn"].append(sample)
        log(
            f"gunicorn after {sent} events: {[w['rss_kib'] // 1024 for w in sample['workers']]} MiB"
        )
        if stored - before < size * 0.5:
            log("wrk ended before half the chunk was stored; the next chunk continues")
    web.stop()

    # Celery: pending orders and the events Stripe sends for each, all stored first; then
    # a worker applies them
    count = opts.memory_worker_events
    redis.flushall()
    common.psql("DELETE FROM payments_webhookevent", common.DB)  # the gunicorn part's rows
    seed.seed_orders((count + 3) // 4)
    web = common.gunicorn(env)
    bodies = paid_intent_events(seed.pending_orders(), "mem")[:count]
    stored = 0
    for start in range(0, len(bodies), CHUNK):
        chunk = bodies[start : start + CHUNK]
        path = ingest.request_file(workdir, "celery", URL_PATH, chunk, web.port)
        for _ in range(6):  # again until all are stored (repeats are duplicates: no-ops)
            common.wrk(web.url + URL_PATH, path, 8, max(5, len(chunk) / 300))
            stored = int(common.psql("SELECT count(*) FROM payments_webhookevent", common.DB))
            if stored >= start + len(chunk):
                break
    log(f"celery: {stored} events stored")
    web.stop()
    redis.flushall()  # what the web side queued: the worker starts from the inbox alone
    # Types no handler applies were stored ignored by the webhook: never queued, not the
    # worker's work (the "events handled" below include them; the rate must not).
    results["celery_stored_ignored"] = int(
        common.psql(
            "SELECT count(*) FROM payments_webhookevent WHERE status <> 'received'", common.DB
        )
    )
    worker = common.celery_worker(env, concurrency=opts.memory_worker_concurrency)
    queue_all = (
        "import django; django.setup(); from payments.webhooks import processing; "
        "from payments.models import WebhookEvent; "
        "[processing.enqueue(pk) for pk in "
        "WebhookEvent.objects.filter(status='received').order_by('pk')"
        ".values_list('pk', flat=True).iterator()]"
    )
    subprocess.run([common.PY, "-c", queue_all], env=env, check=True, cwd=common.ROOT)
    started = time.monotonic()
    stop = started + opts.memory_worker_seconds
    while True:
        done = int(
            common.psql(
                "SELECT count(*) FROM payments_webhookevent WHERE status <> 'received'",
                common.DB,
            )
        )
        processes = [worker.pid, *worker.child_pids()]
        results["celery"].append(
            {
                "events": done,
                "seconds": round(time.monotonic() - started, 1),
                "processes": [{"pid": pid, **common.rss_kib(pid)} for pid in processes],
            }
        )
        if done >= stored or time.monotonic() > stop:
            break
        time.sleep(5)
    results["celery_paid"] = int(
        common.psql("SELECT count(*) FROM orders_order WHERE status = 'paid'", common.DB)
    )
    results["celery_statuses"] = common.psql(
        "SELECT status, count(*) FROM payments_webhookevent GROUP BY 1 ORDER BY 1", common.DB
    )
    log(f"celery: {results['celery'][-1]}, paid {results['celery_paid']}")
    worker.stop()
    emulator.stop()
    redis.stop()
    return results


def like(event: dict, kind: str, obj: dict, suffix: str) -> dict:
    """Another event of the same moment: its own id and type, about `obj`."""
    return {**event, "id": f"{event['id']}_{suffix}", "type": kind, "data": {"object": obj}}


def paid_intent_events(orders, tag: str) -> list[bytes]:
    """Per order, the four events a paid PaymentIntent sends, in Stripe's order."""
    bodies = []
    for body in processing.event_bodies(orders, tag):
        succeeded = json.loads(body)
        intent = succeeded["data"]["object"]
        charge = {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "balance_transaction": f"txn_{intent['id']}",
            "billing_details": {"email": intent["receipt_email"], "name": "Jenny Rosen"},
            "captured": True,
            "created": succeeded["created"],
            "currency": intent["currency"],
            "customer": intent["customer"],
            "livemode": False,
            "metadata": intent["metadata"],
            "outcome": {"network_status": "approved_by_network", "type": "authorized"},
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "receipt_email": intent["receipt_email"],
            "refunded": False,
            "status": "succeeded",
        }

        created = {
            **intent,
            "status": "requires_payment_method",
            "amount_received": 0,
            "latest_charge": None,
        }
        for event in (
            like(succeeded, "payment_intent.created", created, "created"),
            like(succeeded, "charge.succeeded", charge, "charge"),
            succeeded,
            like(succeeded, "charge.updated", charge, "charge_updated"),
        ):
            bodies.append(json.dumps(event).encode())
    return bodies


def report(results: dict, machine: dict) -> str:
    g, c = results["gunicorn"], results["celery"]
    first, last = g[0], g[-1]
    rows = []
    for i, (a, b) in enumerate(zip(first["workers"], last["workers"], strict=False)):
        rows.append(
            [
                f"gunicorn worker {i + 1}",
                f"{last['events']} (all workers)",
                a["rss_kib"] // 1024,
                b["rss_kib"] // 1024,
                b["peak_rss_kib"] // 1024,
            ]
        )
    for i, (a, b) in enumerate(zip(c[0]["processes"], c[-1]["processes"], strict=False), start=0):
        rows.append(
            [
                "Celery worker (main process)" if i == 0 else f"Celery pool process {i}",
                f"{c[-1]['events']} (all processes)",
                a["rss_kib"] // 1024,
                b["rss_kib"] // 1024,
                b["peak_rss_kib"] // 1024,
            ]
        )
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    curve = ", ".join(
        f"{s['events']}: {max(w['rss_kib'] for w in s['workers']) // 1024}" for s in g
    )
    ccurve = ", ".join(
        f"{s['events']}: {max(p['rss_kib'] for p in s['processes']) // 1024}"
        for s in c[:: max(1, len(c) // 8)] + c[-1:]
    )
    return "\n".join(
        [
            f"### Memory ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`.\n",
            common.table(
                ["process", "events", "RSS at start MiB", "RSS at end MiB", "peak RSS MiB"], rows
            ),
            "",
            f"Largest gunicorn worker RSS (MiB) by events received: {curve}.",
            f"Largest Celery process RSS (MiB) by events applied: {ccurve}.",
            f"Celery: {c[-1]['events']} events handled in {c[-1]['seconds']:.0f} s, of "
            f"which {results.get('celery_stored_ignored', 0)} stored ignored by the webhook "
            "(no task, handled before the worker started); orders "
            f"paid: {results['celery_paid']}; inbox by status: "
            f"{results['celery_statuses'].replace(chr(10), ', ')}.",
        ]
    )
