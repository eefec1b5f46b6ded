"""`bench/run [ingest|ingest_parts|checkout|processing|storm|scaling|memory|scale|all]
[options]`: see docs/benchmarks.md."""

import argparse
import json
import sys
import time

from bench import common
from devstack import stop_all


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "which",
        nargs="*",
        default=["ingest"],
        help="ingest ingest_parts checkout processing scale memory storm scaling all",
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--pool-rate", type=float, default=2500, help="distinct events a second")
    parser.add_argument("--repeats", type=int, default=3, help="ingest: runs of each receiver")
    parser.add_argument("--djstripe-events-per-run", type=int, default=1200)
    parser.add_argument(
        "--djstripe-latency-ms",
        type=float,
        default=100,
        help="ingest: dj-stripe again with the emulator this far away (0: skip)",
    )
    parser.add_argument("--events", type=int, default=3000, help="processing: events")
    parser.add_argument("--checkout-orders", type=int, default=40, help="orders per cart size")
    parser.add_argument("--orders", type=int, default=1_000_000, help="scale: orders")
    parser.add_argument("--memory-events", type=int, default=100_000)
    parser.add_argument("--memory-seconds", type=float, default=600, help="gunicorn part cap")
    parser.add_argument("--memory-worker-events", type=int, default=100_000)
    parser.add_argument("--memory-worker-concurrency", type=int, default=2)
    parser.add_argument("--memory-worker-seconds", type=float, default=2400)
    parser.add_argument("--storm-events", type=int, default=10_000, help="storm: 4 an order")
    parser.add_argument("--storm-rate", type=float, default=500, help="storm: events a second")
    parser.add_argument(
        "--storm-workers", type=int, nargs="+", default=[1, 2], help="storm: worker processes"
    )
    parser.add_argument("--scaling-events", type=int, default=3000, help="scaling: payments")
    parser.add_argument(
        "--scaling-workers",
        type=int,
        nargs="+",
        default=[1, 2, 3, 4],
        help="scaling: worker processes, one drain each",
    )
    parser.add_argument(
        "--profile", action="store_true", help="processing: py-spy flame graph of the worker"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop bench_shop after")
    parser.add_argument(
        "--save",
        action="store_true",
        help="write the results to bench/results/<date>-<name>.md and .json (else var/bench/)",
    )
    opts = parser.parse_args(argv)
    which = opts.which
    if "all" in which:
        which = ["ingest", "checkout", "processing", "storm", "scaling", "memory", "scale"]

    machine = common.machine()
    common.log(f"machine: {json.dumps(machine)}")
    if opts.save:
        common.save_to_results(machine)
    started = time.monotonic()
    try:
        for name in which:
            module = __import__(f"bench.{name}", fromlist=["run", "report"])
            common.log(f"=== {name}")
            results = module.run(opts)
            results["machine"] = machine
            results["load_after"] = list(__import__("os").getloadavg())
            common.save(name, results, module.report(results, machine))
    finally:
        stop_all()
        if not opts.keep_db:
            common.drop_database()
    common.log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
