"""The ingest benchmark's table and its targets (medians of the repeated runs)."""

import statistics

from bench import common


def median_of(runs: list[dict], kind: str, conns: int, field: str = "ok_per_s") -> float:
    values = sorted(r[field] for r in runs if r["kind"] == kind and r["connections"] == conns)
    return statistics.median(values) if values else float("nan")


def report(results: dict, machine: dict) -> str:
    runs = results["runs"]
    rows = []
    for r in runs:
        rows.append(
            [
                r["kind"] + (f" #{r['repeat'] + 1}" if "repeat" in r else ""),
                r["connections"],
                f"{r['ok_per_s']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['worker_cpu_ms_per_request']:.2f}"
                if "worker_cpu_ms_per_request" in r
                else "-",
                f"{r['machine_busy']:.0%}" if "machine_busy" in r else "-",
                r.get("errors_status", 0),
            ]
        )
    lines = [
        table_header(machine, results),
        common.table(
            [
                "receiver",
                "connections",
                "accepted/s",
                "p50 ms",
                "p99 ms",
                "worker CPU ms/req",
                "machine busy",
                "non-2xx",
            ],
            rows,
        ),
        "",
        "| target (medians of the runs) | concurrency | measured | each run | met |",
        "|---|---|---|---|---|",
    ]
    concurrencies = sorted({r["connections"] for r in runs if r["kind"] == "ours"})
    for conns in concurrencies:
        ours = median_of(runs, "ours", conns)
        bare = median_of(runs, "bare", conns)
        dj = median_of(runs, "djstripe", conns)
        each = [
            (o["ok_per_s"], b["ok_per_s"], d["ok_per_s"])
            for o, b, d in zip(
                *(
                    [r for r in runs if r["kind"] == kind and r["connections"] == conns]
                    for kind in ("ours", "bare", "djstripe")
                ),
                strict=False,
            )
        ]
        ratio = ours / bare
        lines.append(
            f"| ours ≥ 45 % of bare | {conns} | {ratio:.0%} | "
            f"{', '.join(f'{o / b:.0%}' for o, b, _ in each)} | "
            f"{'yes' if ratio >= 0.45 else 'NO'} |"
        )
        times = ours / max(dj, 1e-9)
        lines.append(
            f"| ours ≥ 10x dj-stripe | {conns} | {times:.1f}x | "
            f"{', '.join(f'{o / max(d, 1e-9):.1f}x' for o, _, d in each)} | "
            f"{'yes' if times >= 10 else 'NO'} |"
        )
        latency = median_of(runs, "djstripe-latency", conns)
        if latency == latency:  # not NaN: that run was made
            lines.append(
                f"| (not a target) ours vs dj-stripe, Stripe "
                f"{results['djstripe_latency_ms']:.0f} ms away | {conns} | "
                f"{ours / max(latency, 1e-9):.0f}x | - | - |"
            )
    half = next((r for r in runs if r["kind"] == "ours-half"), None)
    if half:
        lines.append(
            f"| p99 ≤ 50 ms at half peak | {half['connections']} ({half['ok_per_s']:.0f}/s) | "
            f"{half['p99_ms']:.1f} ms | - | {'yes' if half['p99_ms'] <= 50 else 'NO'} |"
        )
    return "\n".join(lines)


def table_header(machine: dict, results: dict) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load_before"])
    return (
        f"### Webhook ingest ({machine['date']})\n\n"
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']} RAM, "
        f"PostgreSQL {machine['postgres']}; load average before: {load}. "
        f"`{machine['command']}`. gunicorn {results['workers']} sync workers; wrk 1 thread; "
        f"{results['seconds']:.0f} s a run, ours / bare / dj-stripe {results['repeats']} times "
        f"in turn; event body {results['event_bytes']} bytes.\n"
    )
