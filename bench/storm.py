"""Storm: a burst of what Stripe sends for paid PaymentIntents, delivered at a fixed rate
through the webhook endpoint while Celery workers apply it, with one worker process and
then with two.

Each part: a fresh database with `--storm-events` / 4 orders pending payment (2,500 for
the default 10,000 events), and for each order the four events a paid PaymentIntent sends
(`payment_intent.created`, `charge.succeeded`, `payment_intent.succeeded`,
`charge.updated`, as bench/memory.py makes them; only the payment has a handler, the other
three are stored `ignored` by the webhook's INSERT with no task). wrk delivers them once,
in that order, on a schedule of `--storm-rate` events a second (bench/wrk/post.lua,
`BENCH_RATE`) over 32 connections to gunicorn (4 sync workers), while the worker
processes (`-P solo`, separate processes: the unit a deployment multiplies) run.
When the endpoint accepts fewer than asked, the connections wait and the schedule slips
(the arrival rate achieved shows it); wrk stops once every event is stored. Any it did not
get stored are delivered again afterwards, as Stripe would retry them, and counted.

Measured from the inbox rows: the arrival rate achieved (first -> last received_at); the
time to drain (first received_at -> last handled_at, every order paid); the receive ->
applied lag (handled_at - received_at) p50/p99/max over the payment events (processed)
and over all events; and from /proc the workers' and the gunicorn workers' CPU, how busy
the machine was and PostgreSQL's share of it. Every order must end `paid`, every payment
event `processed` and every other event `ignored`, or the run fails.

Target: p99 lag of the payment events under 2 s with two worker processes.
"""

import json
import tempfile
import time
from pathlib import Path

from bench import common, ingest, memory, processing, seed
from bench.common import log

URL_PATH = "/api/v1/webhooks/stripe/"
CONNECTIONS = 32  # enough that the schedule, not the connections, sets the arrivals
TARGET_P99_MS = 2000  # with two worker processes


def counts() -> dict:
    row = processing.sql(
        "SELECT count(*), count(*) FILTER (WHERE status = 'received'), "
        "(SELECT count(*) FROM orders_order WHERE status = 'pending_payment') "
        "FROM payments_webhookevent"
    ).split("|")
    return {"stored": int(row[0]), "received": int(row[1]), "pending_orders": int(row[2])}


def deliver(workdir: Path, web, bodies: list[bytes], rate: float) -> dict:
    """`bodies` once, on a schedule of `rate` a second (0: as fast as they go, 8
    connections), until all are in the inbox: when the endpoint accepts fewer, the
    connections wait and the schedule slips (the rate achieved says so). Then any that were
    still not stored are delivered again (Stripe's retry) and counted."""
    path = ingest.request_file(workdir, "storm", URL_PATH, bodies, web.port)
    seconds = 3 * len(bodies) / (rate or 300) + 30  # at most; stopped when all are stored

    def all_stored() -> bool:
        return counts()["stored"] >= len(bodies)

    res = common.wrk(
        web.url + URL_PATH,
        path,
        CONNECTIONS if rate else 8,
        seconds,
        cpu_pids=web.child_pids(),
        rate=rate,
        once=True,
        until=all_stored,
    )
    redelivered = 0
    for _ in range(5):
        stored = set(processing.sql("SELECT stripe_event_id FROM payments_webhookevent").split())
        missing = [b for b in bodies if json.loads(b)["id"] not in stored]
        if not missing:
            break
        log(f"{len(missing)} events not stored; delivering them again")
        redelivered += len(missing)
        path = ingest.request_file(workdir, "again", URL_PATH, missing, web.port)
        common.wrk(web.url + URL_PATH, path, 4, len(missing) / 50 + 10, once=True, until=all_stored)
    return {**res, "redelivered": redelivered}


def lag_stats() -> dict:
    """The inbox's timings: arrivals, drain, and lag over the payment events and over all."""
    lag = "extract(epoch FROM handled_at - received_at) * 1000"
    paid = "FILTER (WHERE status = 'processed')"
    row = processing.sql(
        "SELECT count(*), count(*) " + paid + ", "
        "extract(epoch FROM max(received_at) - min(received_at)), "
        "extract(epoch FROM max(handled_at) - min(received_at)), "
        "extract(epoch FROM max(handled_at) " + paid + " - min(handled_at) " + paid + "), "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {lag}) {paid}, "
        f"percentile_cont(0.99) WITHIN GROUP (ORDER BY {lag}) {paid}, max({lag}) {paid}, "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {lag}), "
        f"percentile_cont(0.99) WITHIN GROUP (ORDER BY {lag}), max({lag}) "
        "FROM payments_webhookevent"
    ).split("|")
    events, processed = int(row[0]), int(row[1])
    arrivals_s, drain_s, applying_s = (float(x) for x in row[2:5])
    p50, p99, top, all50, all99, alltop = (float(x or 0) for x in row[5:11])
    return {
        "events": events,
        "processed": processed,
        "arrival_s": arrivals_s,
        "arrival_rate": (events - 1) / max(arrivals_s, 1e-9),
        "drain_s": drain_s,
        "applied_per_s": (processed - 1) / max(applying_s, 1e-9),
        "lag_ms": {"p50": p50, "p99": p99, "max": top},
        "lag_all_ms": {"p50": all50, "p99": all99, "max": alltop},
    }


def check(orders: int) -> str:
    """Every order paid, every payment processed, every other event ignored; else fail."""
    statuses = processing.sql(
        "SELECT type, status, count(*) FROM payments_webhookevent GROUP BY 1, 2"
    )
    found = {tuple(line.split("|")[:2]): int(line.split("|")[2]) for line in statuses.split()}
    paid = int(processing.sql("SELECT count(*) FROM orders_order WHERE status = 'paid'"))
    expected = {("payment_intent.succeeded", "processed"): orders}
    for kind in ("payment_intent.created", "charge.succeeded", "charge.updated"):
        expected[(kind, "ignored")] = orders
    if paid != orders or found != expected:
        raise AssertionError(
            f"storm: {paid} of {orders} orders paid; inbox by type and status: {found}"
        )
    return ", ".join(" ".join(line.split("|")) for line in statuses.split())


def waits(cpu: dict) -> str:
    """What the database's active backends waited for, most often first (CpuWatch)."""
    samples = cpu["backend_samples"]
    total = sum(samples.values())
    if not total:
        return "-"
    top = sorted(samples.items(), key=lambda kv: -kv[1])[:3]
    return ", ".join(f"{kind} {n / total:.0%}" for kind, n in top)


def part(opts, workers: int, workdir: Path) -> dict:
    common.create_database()
    redis = common.redis()
    env = common.base_env(REDIS_URL=redis.url, MIRROR_STRIPE_OBJECTS="false")
    web = common.gunicorn(env)
    orders = opts.storm_events // 4
    seed.seed_orders(orders)
    bodies = memory.paid_intent_events(seed.pending_orders(), f"storm{workers}")
    pool = common.celery_workers(env, workers)
    pids = [w.pid for w in pool]
    log(f"{workers} worker process(es) ready; {len(bodies)} events at {opts.storm_rate:.0f}/s")
    watch = common.CpuWatch(pids=pids)
    res = deliver(workdir, web, bodies, opts.storm_rate)
    deadline = time.monotonic() + 120 + orders / 5
    while time.monotonic() < deadline:
        now = counts()
        if now["received"] == 0 and now["pending_orders"] == 0:
            break
        time.sleep(0.5)
    cpu = watch.stop()
    while time.monotonic() < deadline and processing.queued(redis) > 0:
        time.sleep(0.5)  # anything left queued (the receipt goes out in the payment's task)
    stats = lag_stats()
    result = {
        "workers": workers,
        "orders": orders,
        **stats,
        "statuses": check(orders),
        "asked_rate": opts.storm_rate,
        "redelivered": res["redelivered"],
        "wrk": {k: res[k] for k in ("requests", "errors_status", "p50_ms", "p99_ms", "max_ms")},
        "gunicorn_cpu_ms_per_request": res.get("worker_cpu_ms_per_request"),
        "worker_cpu_s": cpu["pids_cpu_s"],
        "worker_cpu_ms_per_payment": cpu["pids_cpu_s"] * 1000 / max(1, stats["processed"]),
        "worker_cpu_ms_per_event": cpu["pids_cpu_s"] * 1000 / max(1, stats["events"]),
        "postgres_cpu_ms_per_event": cpu["postgres_cpu_s"] * 1000 / max(1, stats["events"]),
        "cpu": cpu,
        "worker_rss": [common.rss_kib(pid) for pid in pids],
    }
    log(
        f"storm, {workers} worker(s): arrivals {stats['arrival_rate']:.0f}/s, drained in "
        f"{stats['drain_s']:.1f} s, payment lag p50/p99/max {stats['lag_ms']}"
    )
    for worker in pool:
        worker.stop()
    web.stop()
    redis.stop()
    return result


def run(opts) -> dict:
    if opts.storm_events < 4 or opts.storm_events % 4:
        raise SystemExit("--storm-events: a multiple of 4 (four events an order)")
    if opts.storm_events / opts.storm_rate > 250:  # signed once, 300 s tolerance
        raise SystemExit("--storm-events / --storm-rate: at most 250 s of deliveries")
    workdir = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    parts = [part(opts, workers, workdir) for workers in opts.storm_workers]
    return {"events": opts.storm_events, "rate": opts.storm_rate, "parts": parts}


def report(results: dict, machine: dict) -> str:
    parts = results["parts"]

    def row(label, fmt):
        return [label, *(fmt(p) for p in parts)]

    def ms(value):
        return f"{value:,.0f} ms"

    rows = [
        row("events delivered (orders x 4)", lambda p: f"{p['events']} ({p['orders']} orders)"),
        row(
            "arrivals/s achieved (asked)",
            lambda p: f"{p['arrival_rate']:.0f} ({p['asked_rate']:.0f})",
        ),
        row("delivered again (not stored by the scheduled run)", lambda p: p["redelivered"]),
        row("time to drain (first received -> last handled)", lambda p: f"{p['drain_s']:.1f} s"),
        row("payments applied/s (first -> last applied)", lambda p: f"{p['applied_per_s']:.1f}"),
        row("lag, payment events: p50", lambda p: ms(p["lag_ms"]["p50"])),
        row("lag, payment events: p99", lambda p: ms(p["lag_ms"]["p99"])),
        row("lag, payment events: max", lambda p: ms(p["lag_ms"]["max"])),
        row("lag, all events: p50", lambda p: ms(p["lag_all_ms"]["p50"])),
        row("lag, all events: p99", lambda p: ms(p["lag_all_ms"]["p99"])),
        row("lag, all events: max", lambda p: ms(p["lag_all_ms"]["max"])),
        row("worker CPU per payment event", lambda p: f"{p['worker_cpu_ms_per_payment']:.1f} ms"),
        row(
            "worker CPU per event (all four kinds)",
            lambda p: f"{p['worker_cpu_ms_per_event']:.1f} ms",
        ),
        row(
            "gunicorn CPU per request", lambda p: f"{p['gunicorn_cpu_ms_per_request'] or 0:.2f} ms"
        ),
        row(
            "PostgreSQL CPU per event (all four kinds, ingest included)",
            lambda p: f"{p['postgres_cpu_ms_per_event']:.1f} ms",
        ),
        row("webhook p99 (wrk)", lambda p: f"{p['wrk']['p99_ms']:.0f} ms"),
        row("machine busy (delivery -> drained)", lambda p: f"{p['cpu']['machine_busy']:.0%}"),
        row("PostgreSQL's share of the machine", lambda p: f"{p['cpu']['postgres_share']:.0%}"),
        row("our backends, when active, waited on", lambda p: waits(p["cpu"])),
    ]
    two = next((p for p in parts if p["workers"] == 2), None)
    verdict = "not run with two workers"
    if two is not None:
        met = two["lag_ms"]["p99"] < TARGET_P99_MS
        verdict = f"{'met' if met else 'missed'}: {two['lag_ms']['p99']:,.0f} ms"
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    header = ["measure", *(f"{p['workers']} worker process(es)" for p in parts)]
    return "\n".join(
        [
            f"### Storm ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`; the four events of each paid PaymentIntent at "
            f"{results['rate']:.0f}/s through gunicorn ({common.GUNICORN_WORKERS} sync "
            "workers); separate `-P solo` worker processes; a fresh database each part.\n",
            common.table(header, rows),
            "",
            f"Target, payment events' p99 lag under {TARGET_P99_MS / 1000:.0f} s with two "
            f"worker processes: {verdict}. Every order ended paid "
            f"({'; '.join(p['statuses'] for p in parts[:1])}).",
        ]
    )
