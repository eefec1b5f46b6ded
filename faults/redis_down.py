#!/usr/bin/env python
"""Stop Redis (cache and broker) while events arrive: 200s, stored, nothing lost.

Seeds FAULTS_REDIS_ORDERS (1 500) pending orders and posts one signed
`payment_intent.succeeded` per order at a steady pace over about a minute. About 15 s in,
the run's own Redis is stopped (SIGTERM; it keeps nothing on disk, so the tasks queued in
it are lost too), 25 s later a new Redis starts on the same port, empty.

Invariants: every delivery (during the outage too) answered 200 and was stored in the inbox;
after Redis returns the worker reconnects and the sweep re-queues what was never queued or
was lost with Redis, so every order ends paid once (one audit entry, one receipt, unit sold
once) and no event is left unprocessed.
"""

import concurrent.futures
import os
import sys
import threading
import time

import requests
from harness import Shop, base_env, fault_database, setup_django
from injection import event, payment_intent, seed_orders, signed_post
from invariants import check_paid_once, wait_for_inbox
from reporting import Report

ORDERS = int(os.environ.get("FAULTS_REDIS_ORDERS", "1500"))
SPREAD_SECONDS = 60.0
DOWN_AT, DOWN_FOR = 15.0, 25.0


def main() -> int:
    report = Report("redis_down")
    with fault_database("redis_down", report) as db_url:
        setup_django(base_env(db_url))
        from django.db import connection

        from payments.models import WebhookEvent

        product_id, seeded = seed_orders(ORDERS, prefix="redis")
        now = int(time.time())
        events = [
            event(
                f"evt_redis_{order_id}",
                "payment_intent.succeeded",
                payment_intent(pi, order_id, 1, 1500),
                now,
            )
            for order_id, (pi,) in seeded
        ]
        connection.close()
        report.step(
            f"seeded {ORDERS} orders; posting {len(events)} events over {SPREAD_SECONDS:.0f}s"
        )

        shop = Shop(db_url)
        shop.worker.supervise(report.step)
        try:
            outage = {"down": None, "up": None}
            results: list[tuple[str, float, int | None, float]] = []
            lock = threading.Lock()
            local = threading.local()
            start = time.monotonic()

            def send(index_event):
                index, evt = index_event
                due = start + index * SPREAD_SECONDS / len(events)
                time.sleep(max(0.0, due - time.monotonic()))
                if not hasattr(local, "session"):
                    local.session = requests.Session()
                sent = time.monotonic()
                try:
                    status = signed_post(local.session, shop.url, evt, timeout=20).status_code
                except requests.RequestException:
                    status = None
                with lock:
                    results.append((evt["id"], sent, status, time.monotonic() - sent))

            def outage_plan():
                time.sleep(DOWN_AT)
                port = shop.redis.port
                shop.redis.stop()
                outage["down"] = time.monotonic()
                report.step(f"Redis on port {port} stopped (its queued tasks are gone with it)")
                time.sleep(DOWN_FOR)
                shop.redis.start()  # the same port, empty
                outage["up"] = time.monotonic()
                report.step(f"a new, empty Redis started on port {port}")

            planner = threading.Thread(target=outage_plan)
            planner.start()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(send, enumerate(events)))
            planner.join(120)

            during = [r for r in results if outage["down"] <= r[1] < outage["up"]]
            ok_during = [r for r in during if r[2] == 200]
            slowest = max((r[3] for r in during), default=0.0)
            stored_during = WebhookEvent.objects.filter(
                stripe_event_id__in=[r[0] for r in during]
            ).count()
            connection.close()
            report.step(
                f"{len(results)} posted; {len(during)} while Redis was down, "
                f"{len(ok_during)} of those answered 200 (slowest {slowest:.2f}s)"
            )
            report.check(
                "the endpoint answered 200 to every delivery while Redis was down",
                len(during) > 0 and len(ok_during) == len(during),
                f"{len(ok_during)}/{len(during)}, slowest {slowest:.2f}s",
            )
            report.check(
                "every delivery made while Redis was down is stored in the inbox",
                stored_during == len(during),
                f"{stored_during}/{len(during)}",
            )
            report.check(
                "every delivery of the run answered 200",
                sum(1 for r in results if r[2] == 200) == len(events),
                f"{sum(1 for r in results if r[2] == 200)}/{len(events)}",
            )
            settled = wait_for_inbox(report, len(events), timeout=300, shop=shop)
            report.check(
                "after Redis returned, the sweep and the worker handled every event", settled
            )
            check_paid_once(report, shop, [o for o, _ in seeded], product_id)
            if shop.worker.crashes:
                report.step(
                    f"FINDING: the Celery worker died {len(shop.worker.crashes)} time(s) when the "
                    "broker went away instead of reconnecting (celery 5.7.0 / kombu 5.7.0: "
                    "AttributeError in restore_unacked while closing the lost connection); "
                    "run it under a supervisor that restarts it (systemd Restart=always)"
                )
        finally:
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
