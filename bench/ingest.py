"""Webhook ingest: accepted events/s and p50/p99 at fixed concurrencies, with wrk.

Four receivers behind one gunicorn (sync workers), back to back in one run:
- ours: POST /api/v1/webhooks/stripe/ with distinct signed ~3 KB payment_intent.* events;
- duplicates: the same events delivered again (already in the inbox);
- bare: POST /bench/ping, a Django view that only answers 200 (the framework ceiling);
- dj-stripe: its own webhook view (bench/urls.py), fed real events the emulator made, so
  its object re-fetch (CRUD handler, `api_retrieve`) finds them at the emulator;
and pgbench inserting the same inbox row (the storage ceiling). Then ours again at about
half its peak rate, for p99 there.
"""

import json
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import stripe

from bench import common
from bench.common import log
from bench.ingest_report import median_of, report  # noqa: F401 (bench/run calls report)

HOST = "127.0.0.1"


def emulator_events(emulator_url: str, intents: int) -> list[dict]:
    """Make `intents` paid PaymentIntents at the emulator; return its payment_intent.* events."""
    client = stripe.StripeClient(
        common.SECRET_KEY,
        base_addresses={"api": emulator_url},
        max_network_retries=0,
    )
    customer = client.v1.customers.create(params={"email": "bench@example.com", "name": "Bench"})
    for n in range(intents):
        client.v1.payment_intents.create(
            params={
                "amount": 4200 + n,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": "pm_card_visa",
                "confirm": True,
                "description": f"Order BENCH-{n:06d}",
                "receipt_email": "bench@example.com",
                "metadata": {"order_id": str(900000 + n), "attempt": "1"},
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            }
        )
    events, after = [], None
    while True:
        params = {"limit": 100, "type": "payment_intent.*"}
        if after:
            params["starting_after"] = after
        page = client.v1.events.list(params=params)
        events += [e.to_dict(recursive=True) for e in page.data]
        if not page.has_more:
            break
        after = page.data[-1].id
    return events


# Fields a live PaymentIntent carries at this API version that the emulator leaves out;
# added to every event (ours and dj-stripe's alike) so the bodies are about 3 KB as Stripe's.
LIVE_FIELDS = {
    "amount_details": {"tip": {}},
    "application": None,
    "application_fee_amount": None,
    "automatic_payment_methods": {"allow_redirects": "never", "enabled": True},
    "canceled_at": None,
    "cancellation_reason": None,
    "confirmation_method": "automatic",
    "excluded_payment_method_types": None,
    "last_payment_error": None,
    "next_action": None,
    "on_behalf_of": None,
    "payment_method_configuration_details": {"id": "pmc_1QbenchConfig000000", "parent": None},
    "payment_method_options": {
        "card": {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": "automatic",
        },
        "link": {"persistent_token": None},
    },
    "payment_method_types": ["card", "link"],
    "payment_details": {"customer_reference": None, "order_reference": "BENCH-ORDER"},
    "presentment_details": None,
    "hooks": None,
    "customer_account": None,
    "excluded_payment_method_types_reason": None,
    "processing": None,
    "review": None,
    "setup_future_usage": None,
    "shipping": {
        "address": {
            "city": "San Francisco",
            "country": "US",
            "line1": "510 Townsend Street",
            "line2": "Floor 3",
            "postal_code": "94103",
            "state": "CA",
        },
        "carrier": "USPS",
        "name": "Jenny Rosen",
        "phone": "+14155550123",
        "tracking_number": None,
    },
    "source": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": "SHOP",
    "transfer_data": None,
    "transfer_group": None,
}


def realistic(event: dict) -> dict:
    obj = event["data"]["object"]
    for key, value in LIVE_FIELDS.items():
        obj.setdefault(key, value)
    obj["metadata"] = {
        **obj.get("metadata", {}),
        "cart_id": "cart_8f14e45fceea167a5a36dedd4bea2543",
        "shop_release": "2026.11.3",
        "channel": "storefront-api",
        "customer_segment": "returning",
        "fulfilment_centre": "eu-west-warehouse-2",
        "promotion_code": "AUTUMN-2026-FREE-SHIPPING",
        "risk_session": "rs_6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "client_version": "shop-web/2026.11.3 (Mozilla/5.0; X11; Linux x86_64)",
        "shipping_method": "dhl-express-next-day-before-noon",
        "tax_calculation": "txcd_99999999-eu-oss-2026-11-24T09:15:00Z",
        "referrer": "https://shop.example.com/collections/autumn?utm_source=newsletter",
        "gift_message": "Happy birthday! Enjoy the new boots - love, A.",
        "warehouse_ticket": "WH2-2026-11-24-000481-PICK-A17",
    }
    event.setdefault("context", None)
    return event


def signed(body: bytes, ts: int) -> dict:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), common.WEBHOOK_SECRET, timestamp=ts
    )
    return {"Content-Type": "application/json", "Stripe-Signature": header}


def distinct_bodies(template: dict, count: int, tag: str) -> list[bytes]:
    """`count` distinct events shaped exactly like `template` (new event and intent ids)."""
    text = json.dumps(template)
    event_id, intent_id = template["id"], template["data"]["object"]["id"]
    bodies = []
    for n in range(count):
        suffix = f"{tag}{n:07d}"
        bodies.append(
            text.replace(event_id, f"evt_bench{suffix}")
            .replace(intent_id, f"pi_bench{suffix}")
            .encode()
        )
    return bodies


def request_file(workdir: Path, name: str, url_path: str, bodies: list[bytes], port: int):
    ts = int(time.time())  # signed just before the run (300 s tolerance)
    path = workdir / f"{name}.req"
    common.write_requests(path, f"{HOST}:{port}", url_path, ((signed(b, ts), b) for b in bodies))
    return path


def inbox_rows() -> int:
    return int(common.psql("SELECT count(*) FROM payments_webhookevent", common.DB))


def djstripe_rows() -> int:
    return int(common.psql("SELECT count(*) FROM djstripe_event", common.DB))


def pgbench(body: bytes, connections: int, seconds: float, workdir: Path) -> dict:
    event = json.loads(body)
    literal = json.dumps(event).replace("'", "''")  # ": " and ", " keep pgbench's :vars out
    script = workdir / "insert.sql"
    script.write_text(
        "INSERT INTO payments_webhookevent (stripe_event_id, source, type, livemode, "
        "api_version, stripe_created, payload, received_at, status, attempts, last_error, "
        "order_id, payment_intent_id) VALUES ('evt_pg_' || nextval('bench_pg_ids'), "
        "'webhook', 'payment_intent.succeeded', false, '2026-08-26.dahlia', now(), "
        f"'{literal}'::jsonb, now(), 'received', 0, '', 900001, 'pi_pg');\n"
    )
    common.psql("CREATE SEQUENCE IF NOT EXISTS bench_pg_ids", common.DB)
    logs = workdir / f"pgbench-{connections}"
    logs.mkdir(exist_ok=True)
    before, busy_before = inbox_rows(), common.machine_ticks()
    out = subprocess.run(
        [
            "pgbench",
            "-h",
            HOST,
            "-U",
            "postgres",
            "-n",
            "-M",
            "prepared",
            "-j",
            "1",
            "-c",
            str(connections),
            "-T",
            str(max(1, round(seconds))),
            "-f",
            str(script),
            "-l",
            "--log-prefix",
            str(logs / "tx"),
            common.DB,
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=seconds + 60,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stdout}\n{out.stderr}")
    latencies = []
    for file in logs.iterdir():
        for line in file.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000)
    found = re.search(r"tps = ([\d.]+)", out.stdout)
    rows = inbox_rows() - before
    busy_after = common.machine_ticks()
    return {
        "machine_busy": (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
        "ok": rows,
        "ok_per_s": float(found.group(1)) if found else rows / seconds,
        "p50_ms": common.percentile(latencies, 50),
        "p99_ms": common.percentile(latencies, 99),
        "requests": len(latencies),
    }


def run(opts) -> dict:
    seconds, concurrencies = opts.seconds, opts.concurrency
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    common.create_database()
    redis = common.redis()
    emulator = common.emulator()
    env = common.base_env(REDIS_URL=redis.url, STRIPE_API_BASE=emulator.url)
    web = common.gunicorn(env)

    # dj-stripe's endpoint: a WebhookEndpoint row with our secret; signature validation
    # (dj-stripe's default); its handler then re-fetches each object from the emulator.
    endpoint_uuid = uuid.uuid4()
    common.psql(
        "INSERT INTO djstripe_webhookendpoint (id, livemode, created, metadata, stripe_data, "
        "djstripe_created, djstripe_updated, api_version, enabled_events, secret, "
        "status, url, application, djstripe_uuid, djstripe_tolerance, "
        "djstripe_validation_method) VALUES ('we_bench', false, now(), '{}', '{}', "
        "now(), now(), '2026-08-26.dahlia', '[\"*\"]', "
        f"'{common.WEBHOOK_SECRET}', 'enabled', 'http://{HOST}/bench', '', '{endpoint_uuid}', "
        "300, 'verify_signature')",
        common.DB,
    )
    djstripe_path = f"/bench/djstripe/webhook/{endpoint_uuid}/"
    pids = web.child_pids()

    log("making events at the emulator")
    started = time.monotonic()
    djstripe_runs = len(concurrencies) * (opts.repeats + (1 if opts.djstripe_latency_ms else 0))
    # two events (created, succeeded) an intent; each dj-stripe run gets its own events
    intents = (opts.djstripe_events_per_run * djstripe_runs + 1) // 2
    real = [realistic(e) for e in emulator_events(emulator.url, intents)]
    log(f"{len(real)} emulator events in {time.monotonic() - started:.1f} s")
    template = next(e for e in real if e["type"] == "payment_intent.succeeded")
    size = len(json.dumps(template))
    real_bodies = [json.dumps(e).encode() for e in real]

    results = {
        "seconds": seconds,
        "repeats": opts.repeats,
        "event_bytes": size,
        "workers": web.workers,
        "runs": [],
    }

    def record(kind, conns, res, **extra):
        row = {"kind": kind, "connections": conns, **res, **extra}
        results["runs"].append(row)
        log(
            f"{kind:10} c={conns:3} ok/s={row['ok_per_s']:8.1f} p50={row['p50_ms']:.1f} ms "
            f"p99={row['p99_ms']:.1f} ms cpu/req={row.get('worker_cpu_ms_per_request', 0):.2f} "
            f"ms busy={row.get('machine_busy', 0):.0%} {extra or ''}"
        )
        return row

    pool = int(opts.pool_rate * seconds)
    per_run = opts.djstripe_events_per_run
    djstripe_slices = iter(
        real_bodies[i : i + per_run] for i in range(0, len(real_bodies), per_run)
    )

    def djstripe_run(conns, label, **extra):
        # dj-stripe gets events it has not seen (a repeat would be a cheap lookup for it);
        # what counts is events it stored, each after re-fetching its object.
        bodies = next(djstripe_slices)
        path = request_file(workdir, f"{label}-{conns}", djstripe_path, bodies, web.port)
        before = djstripe_rows()
        # its CPU includes the emulator's, which answers dj-stripe's re-fetch of the object
        res = common.wrk(
            web.url + djstripe_path, path, conns, seconds, cpu_pids=[*pids, emulator.pid]
        )
        new_events = djstripe_rows() - before
        return record(
            label,
            conns,
            {**res, "ok_per_s": new_events / res["seconds"]},
            new_events=new_events,
            pool=len(bodies),
            pool_exhausted=res["requests"] >= len(bodies),
            **extra,
        )

    for conns in concurrencies:
        # ours, the bare view and dj-stripe take turns, `repeats` times: the machine's
        # drift between runs then touches all three alike, and medians are reported.
        for repeat in range(opts.repeats):
            tag = f"c{conns}r{repeat}x"
            bodies = distinct_bodies(template, pool, tag)
            path = request_file(
                workdir, f"ours-{conns}", "/api/v1/webhooks/stripe/", bodies, web.port
            )
            before = inbox_rows()
            res = common.wrk(
                web.url + "/api/v1/webhooks/stripe/", path, conns, seconds, cpu_pids=pids
            )
            new_rows = inbox_rows() - before
            record(
                "ours",
                conns,
                {**res, "ok_per_s": new_rows / res["seconds"]},
                new_rows=new_rows,
                pool=pool,
                pool_exhausted=res["requests"] > pool,
                repeat=repeat,
            )
            stored = bodies[: max(1, new_rows - conns)]

            path = request_file(workdir, f"bare-{conns}", "/bench/ping", bodies[:2000], web.port)
            res = common.wrk(web.url + "/bench/ping", path, conns, seconds, cpu_pids=pids)
            record("bare", conns, res, repeat=repeat)

            djstripe_run(conns, "djstripe", repeat=repeat)

        # the same events again: only ones the last run above stored (the first ones it
        # sent; the last `conns` may have been in flight when wrk stopped)
        path = request_file(workdir, f"dup-{conns}", "/api/v1/webhooks/stripe/", stored, web.port)
        before = inbox_rows()
        res = common.wrk(web.url + "/api/v1/webhooks/stripe/", path, conns, seconds, cpu_pids=pids)
        record("duplicate", conns, res, new_rows=inbox_rows() - before)

        record("pgbench", conns, pgbench(bodies[0], conns, seconds, workdir))

    if opts.djstripe_latency_ms:
        # Not a target: dj-stripe with its re-fetch a network round trip away, as from
        # a real shop to Stripe (the emulator waits before each API answer).
        emulator.set_latency(opts.djstripe_latency_ms)
        for conns in concurrencies:
            djstripe_run(conns, "djstripe-latency")
        emulator.set_latency(0)
        results["djstripe_latency_ms"] = opts.djstripe_latency_ms

    # p99 at about half our peak rate: wrk's per-connection pause sets the rate.
    peak = max(median_of(results["runs"], "ours", c) for c in concurrencies)
    target = peak / 2
    conns = 8
    fastest = min(r["p50_ms"] for r in results["runs"] if r["kind"] == "ours")
    delay = max(0.0, conns * 1000 / target - fastest)
    for attempt in range(2):
        bodies = distinct_bodies(template, int(target * seconds * 1.5), f"half{attempt}x")
        path = request_file(workdir, "half", "/api/v1/webhooks/stripe/", bodies, web.port)
        before = inbox_rows()
        res = common.wrk(
            web.url + "/api/v1/webhooks/stripe/", path, conns, seconds, delay, cpu_pids=pids
        )
        rate = (inbox_rows() - before) / res["seconds"]
        if attempt == 0 and abs(rate - target) / target > 0.15:
            delay = max(0.0, delay * rate / target + (rate / target - 1) * fastest)
            continue
        record("ours-half", conns, {**res, "ok_per_s": rate}, target_rate=target, delay_ms=delay)
        break

    results["gunicorn_worker_rss"] = [common.rss_kib(pid) for pid in web.child_pids()]
    web.stop()
    emulator.stop()
    redis.stop()
    return results
