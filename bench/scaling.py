"""Scaling: payment events applied a second from a full queue by 1, 2, 3 and 4 worker
processes (`--scaling-workers`), and what the machine and PostgreSQL spend meanwhile.

Each count of workers gets a fresh database with `--scaling-events` orders pending payment
and their `payment_intent.succeeded` events, delivered through the webhook endpoint
(gunicorn) while no worker runs, as bench/processing.py's part 1 does. Then the workers
(separate `-P solo` processes, the unit a deployment multiplies) start together and drain
the queue. Measured from when all are ready until every event is handled:

- rate: payment events applied (handled_at in that window) / (last handled_at - start);
- the gain each added worker brings, and the rate against `workers` x the one-worker rate;
- how busy the machine was (all cores), PostgreSQL's share of it (the CPU of every
  `postgres` process, from /proc, ended backends included: on a shared server other
  databases' work counts too), the CPU per event of the workers and of PostgreSQL;
- what the database's active backends were waiting for (pg_stat_activity, every 0.5 s):
  `Lock` is a row lock another worker's transaction holds (every seeded order has the same
  one product, whose row each payment locks and updates).

On a machine of few cores the workers and PostgreSQL share the CPU: once the machine is
busy, a worker more only moves CPU around. The report gives, from the CPU per event, the
rate that would fill the machine and the rate at which PostgreSQL alone would fill it.
"""

import tempfile
import time
from pathlib import Path

from bench import common, processing, seed, storm
from bench.common import log

BUSY = 0.9  # the machine counts as full from here


def drain(count: int, workers: int, workdir: Path) -> dict:
    common.create_database()
    redis = common.redis()
    env = common.base_env(REDIS_URL=redis.url, MIRROR_STRIPE_OBJECTS="false")
    web = common.gunicorn(env)
    seed.seed_orders(count)
    bodies = processing.event_bodies(seed.pending_orders(), f"scaling{workers}")
    delivered = storm.deliver(workdir, web, bodies, rate=0)
    web.stop()
    log(f"{count} events stored ({delivered['redelivered']} again); {workers} worker(s)")
    pool = common.celery_workers(env, workers)
    started = processing.sql("SELECT extract(epoch FROM now())")
    watch = common.CpuWatch(pids=[w.pid for w in pool])
    deadline = time.monotonic() + 120 + count / 5
    while time.monotonic() < deadline and storm.counts()["received"] > 0:
        time.sleep(0.5)
    cpu = watch.stop()
    window, applied, first = processing.sql(
        f"SELECT extract(epoch FROM max(handled_at)) - {started}, "
        f"count(*) FILTER (WHERE handled_at >= to_timestamp({started})), "
        "extract(epoch FROM min(handled_at)) "
        "FROM payments_webhookevent WHERE status = 'processed'"
    ).split("|")
    paid = int(processing.sql("SELECT count(*) FROM orders_order WHERE status = 'paid'"))
    if paid != count:
        raise AssertionError(f"scaling: {paid} of {count} orders paid after {workers} worker(s)")
    applied, window = int(applied), float(window)
    result = {
        "workers": workers,
        "events": count,
        "applied_in_window": applied,
        "before_all_ready": count - applied,  # the first ones ready began before the others
        "window_s": window,
        "events_per_s": applied / max(window, 1e-9),
        "started_after_first_s": float(started) - float(first),
        "worker_cpu_ms_per_event": cpu["pids_cpu_s"] * 1000 / max(1, applied),
        "postgres_cpu_ms_per_event": cpu["postgres_cpu_s"] * 1000 / max(1, applied),
        "cpu": cpu,
    }
    log(
        f"{workers} worker(s): {result['events_per_s']:.1f} events/s, machine busy "
        f"{cpu['machine_busy']:.0%}, PostgreSQL {cpu['postgres_share']:.0%}"
    )
    for worker in pool:
        worker.stop()
    redis.stop()
    return result


def run(opts) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    runs = [drain(opts.scaling_events, k, workdir) for k in opts.scaling_workers]
    return {"events": opts.scaling_events, "runs": runs}


def findings(runs: list[dict], cores: int) -> list[str]:
    """Where the machine fills, and the ceilings the CPU per event gives."""
    lines = []
    full = next((r for r in runs if round(r["cpu"]["machine_busy"], 2) >= BUSY), None)
    if full is None:
        lines.append(f"The machine stayed under {BUSY:.0%} busy with every count of workers.")
    else:
        share = full["cpu"]["postgres_share"] / max(full["cpu"]["machine_busy"], 1e-9)
        lines.append(
            f"The machine is full ({full['cpu']['machine_busy']:.0%} busy) from "
            f"{full['workers']} worker process(es); PostgreSQL then uses {share:.0%} of the "
            "CPU in use."
        )
    last = runs[-1]
    worker_ms, pg_ms = last["worker_cpu_ms_per_event"], last["postgres_cpu_ms_per_event"]
    lines.append(
        f"CPU per event with {last['workers']} worker(s): {worker_ms:.1f} ms in the worker, "
        f"{pg_ms:.1f} ms in PostgreSQL. The {cores} cores would apply at most "
        f"{cores * 1000 / max(worker_ms + pg_ms, 1e-9):.0f} events/s with workers and "
        f"PostgreSQL on this machine; PostgreSQL alone would fill them at "
        f"{cores * 1000 / max(pg_ms, 1e-9):.0f} events/s (workers elsewhere)."
    )
    return lines


def report(results: dict, machine: dict) -> str:
    runs = results["runs"]
    one = runs[0]["events_per_s"] / max(runs[0]["workers"], 1)
    rows, previous = [], None
    for r in runs:
        rate = r["events_per_s"]
        gain = "-" if previous is None else f"{rate - previous:+.1f} ({rate / previous - 1:+.0%})"
        rows.append(
            [
                r["workers"],
                f"{rate:.1f}",
                gain,
                f"{rate / (one * r['workers']):.0%}",
                f"{r['worker_cpu_ms_per_event']:.1f}",
                f"{r['postgres_cpu_ms_per_event']:.1f}",
                f"{r['cpu']['machine_busy']:.0%}",
                f"{r['cpu']['postgres_share']:.0%}",
                storm.waits(r["cpu"]),
            ]
        )
        previous = rate
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    header = [
        "worker processes",
        "events/s",
        "gain over one fewer",
        "of workers x one's rate",
        "worker CPU ms/event",
        "PostgreSQL CPU ms/event",
        "machine busy",
        "PostgreSQL's share of the machine",
        "our backends, when active, waited on",
    ]
    return "\n".join(
        [
            f"### Scaling ({machine['date']})\n",
            f"{machine['cores']} cores, {machine['memory']} RAM, load before {load}; "
            f"`{machine['command']}`; {results['events']} `payment_intent.succeeded` events "
            "for pending orders, queued before the workers start (separate `-P solo` "
            "processes); a fresh database per row; measured from all workers ready to the "
            "last event handled.\n",
            common.table(header, rows),
            "",
            *findings(runs, machine["cores"]),
        ]
    )
