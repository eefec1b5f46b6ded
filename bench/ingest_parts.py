"""Where a delivery's CPU goes: ours and the bare view, part by part (bench.cpu_parts).

Like the ingest benchmark (one gunicorn, 4 sync workers, wrk, distinct signed events), but
the workers run bench.cpu_parts, which counts each part's CPU time; ours and the bare view
take turns `--repeats` times at the first `--concurrency`. The wrappers cost some CPU of
their own: compare the parts, and take rates from `bench/run ingest`.
"""

import json
import statistics
import tempfile
import time
from pathlib import Path

from bench import common, ingest

OURS, BARE = "/api/v1/webhooks/stripe/", "/bench/ping"


def _totals(directory: Path, pids) -> tuple[int, dict]:
    requests, spent = 0, {}
    for pid in pids:
        path = directory / f"{pid}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        requests += data["requests"]
        for part, ns in data["ns"].items():
            spent[part] = spent.get(part, 0) + ns
    return requests, spent


def run(opts) -> dict:
    seconds, conns = opts.seconds, opts.concurrency[0]
    workdir = Path(tempfile.mkdtemp(prefix="bench-parts-"))
    parts_dir = workdir / "parts"
    parts_dir.mkdir()
    common.create_database()
    redis = common.redis()
    emulator = common.emulator()
    env = common.base_env(
        REDIS_URL=redis.url,
        STRIPE_API_BASE=emulator.url,
        DJANGO_SETTINGS_MODULE="bench.cpu_parts",
        BENCH_CPU_PARTS_DIR=parts_dir,
    )
    web = common.gunicorn(env)
    pids = web.child_pids()
    events = [ingest.realistic(e) for e in ingest.emulator_events(emulator.url, 1)]
    template = next(e for e in events if e["type"] == "payment_intent.succeeded")
    runs = []
    for repeat in range(opts.repeats):
        bodies = ingest.distinct_bodies(template, int(opts.pool_rate * seconds), f"p{repeat}x")
        for kind, url_path in (("ours", OURS), ("bare", BARE)):
            sent = bodies if kind == "ours" else bodies[:2000]
            path = ingest.request_file(workdir, kind, url_path, sent, web.port)
            before = _totals(parts_dir, pids)
            result = common.wrk(web.url + url_path, path, conns, seconds, cpu_pids=pids)
            time.sleep(0.5)  # the workers' last files
            after = _totals(parts_dir, pids)
            requests = max(1, after[0] - before[0])
            parts = {
                part: (ns - before[1].get(part, 0)) / 1e6 / requests
                for part, ns in after[1].items()
            }
            runs.append({"kind": kind, "repeat": repeat, "connections": conns, **result})
            runs[-1]["parts_ms"] = parts
            common.log(
                f"{kind} #{repeat + 1}: cpu/req={result['worker_cpu_ms_per_request']:.2f} ms "
                f"parts={sum(parts.values()):.2f} ms"
            )
    web.stop()
    emulator.stop()
    redis.stop()
    return {"seconds": seconds, "repeats": opts.repeats, "runs": runs}


def report(results: dict, machine: dict) -> str:
    runs = results["runs"]
    parts = sorted({p for r in runs for p in r["parts_ms"]})

    def median(kind, value):
        return statistics.median(value(r) for r in runs if r["kind"] == kind)

    rows = [
        [
            part,
            *(
                f"{median(k, lambda r, p=part: r['parts_ms'].get(p, 0)):.2f}"
                for k in ("ours", "bare")
            ),
        ]
        for part in parts
    ]
    rows.append(
        ["worker CPU (/proc)"]
        + [f"{median(k, lambda r: r['worker_cpu_ms_per_request']):.2f}" for k in ("ours", "bare")]
    )
    return "\n".join(
        [
            "# Webhook ingest: CPU per request, part by part",
            "",
            f"Python {machine['python']}; {results['repeats']} runs of {results['seconds']:.0f} s "
            f"each at {runs[0]['connections']} connections; medians, ms of a gunicorn "
            "worker's CPU per request (each part without what it calls).",
            "",
            common.table(["part", "ours", "bare"], rows),
            "",
        ]
    )
