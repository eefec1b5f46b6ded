"""Memory: peak RSS (VmHWM) of a gunicorn worker and a Celery worker process as events go
through them, sampled along the way so growth (a leak) shows as a slope.

- gunicorn: `--memory-events` distinct signed events (100 k by default) to the webhook
  endpoint in chunks of 20 k, with RSS of every worker after each chunk.
- Celery: one worker process (`-P solo`) applies `payment_intent.succeeded` events for
  pending orders for at most `--memory-worker-seconds` (bounded: a single worker applies
  tens of events a second here, so 100 k would take most of an hour), RSS every 5 s.
"""

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
    redis = common.Redis().start()
    emulator = common.Emulator().start()
    env = common.base_env(
        REDIS_URL=redis.url, STRIPE_API_BASE=emulator.url, MIRROR_STRIPE_OBJECTS="false"
    )
    web = common.Gunicorn(env).start()
    pids = web.worker_pids()
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

    # Celery: pending orders and their events in the queue, one worker for a bounded time
    count = opts.memory_worker_events
    subprocess.run(
        ["redis-cli", "-p", str(redis.port), "FLUSHALL"], check=True, capture_output=True
    )
    common.psql("DELETE FROM payments_webhookevent", common.DB)  # the gunicorn part's rows
    seed.seed_orders(count)
    web = common.Gunicorn(env).start()
    bodies = processing.event_bodies(seed.pending_orders(), "mem")
    path = ingest.request_file(workdir, "celery", URL_PATH, bodies, web.port)
    for _ in range(6):  # again until all are stored (repeats are duplicates: no-ops)
        common.wrk(web.url + URL_PATH, path, 8, max(5, count / 150))
        stored = int(common.psql("SELECT count(*) FROM payments_webhookevent", common.DB))
        if stored >= count:
            break
    web.stop()
    worker = common.CeleryWorker(env).start()
    stop = time.monotonic() + opts.memory_worker_seconds
    while time.monotonic() < stop:
        done = int(
            common.psql(
                "SELECT count(*) FROM payments_webhookevent WHERE status = 'processed'", common.DB
            )
        )
        results["celery"].append({"events": done, **common.rss_kib(worker.pid)})
        if done >= count:
            break
        time.sleep(5)
    log(f"celery: {results['celery'][-1]}")
    worker.stop()
    emulator.stop()
    redis.stop()
    return results


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
    rows.append(
        [
            "Celery worker (solo)",
            c[-1]["events"],
            c[0]["rss_kib"] // 1024,
            c[-1]["rss_kib"] // 1024,
            c[-1]["peak_rss_kib"] // 1024,
        ]
    )
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    curve = ", ".join(
        f"{s['events']}: {max(w['rss_kib'] for w in s['workers']) // 1024}" for s in g
    )
    ccurve = ", ".join(f"{s['events']}: {s['rss_kib'] // 1024}" for s in c[:: max(1, len(c) // 8)])
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
            f"Celery worker RSS (MiB) by events applied: {ccurve}.",
        ]
    )
