#!/usr/bin/env python
"""Kill -9 the Celery worker in the middle of 10 000 events, restart it: each event once.

Seeds FAULTS_KILL_ORDERS (5 000) pending orders with a PaymentIntent attempt each and posts
two signed events per order (`payment_intent.processing`, `payment_intent.succeeded`: 10 000)
straight to the webhook endpoint, 8 clients at a time. While the worker (one process, 3
threads, acks late) works through them it is killed with SIGKILL three times, at about 20,
50 and 80 % of the events handled, and started again. The sweep (every 5 s, grace 20 s)
re-queues what the dead worker had taken.

Invariant: every event processed exactly once: each inbox row `processed` with one
committed attempt, every order paid once, one `payment.succeeded` audit entry and one receipt
e-mail per order, each order's unit sold once.
"""

import os
import sys
import threading
import time

from harness import Shop, base_env, fault_database, setup_django
from injection import event, payment_intent, post_all, seed_orders
from invariants import check_paid_once, wait_for_inbox
from reporting import Report

from devstack import unfinished_tasks

ORDERS = int(os.environ.get("FAULTS_KILL_ORDERS", "5000"))
KILLS_AT = (0.2, 0.5, 0.8)


def main() -> int:
    report = Report("kill_worker")
    with fault_database("kill_worker", report) as db_url:
        setup_django(base_env(db_url))
        from django.db import connection

        from payments.models import WebhookEvent

        product_id, seeded = seed_orders(ORDERS, prefix="kill")
        now = int(time.time())
        events = []
        for order_id, (pi,) in seeded:
            events.append(
                event(
                    f"evt_kill_{order_id}_processing",
                    "payment_intent.processing",
                    payment_intent(pi, order_id, 1, 1500, status="processing"),
                    now,
                )
            )
            events.append(
                event(
                    f"evt_kill_{order_id}_succeeded",
                    "payment_intent.succeeded",
                    payment_intent(pi, order_id, 1, 1500),
                    now + 1,
                )
            )
        total = len(events)
        report.step(f"seeded {ORDERS} orders; {total} signed events to post")
        connection.close()

        shop = Shop(db_url)
        try:
            report.step(f"shop up: gunicorn {shop.url}, worker pid {shop.worker.pid}")
            answers: list = []
            poster = threading.Thread(
                target=lambda: answers.extend(post_all(shop.url, events, threads=8, deadline=420))
            )
            poster.start()
            kills = []
            deadline = time.monotonic() + 480
            for share in KILLS_AT:
                target = int(total * share)
                while time.monotonic() < deadline:
                    handled = WebhookEvent.objects.exclude(status="received").count()
                    connection.close()
                    if handled >= target:
                        break
                    time.sleep(0.5)
                busy = len(unfinished_tasks(shop.worker.output(tail=200_000)))
                pid = shop.worker.pid
                shop.worker.kill9()
                kills.append((handled, busy))
                report.step(
                    f"kill -9 worker pid {pid} at {handled}/{total} events handled "
                    f"({busy} task(s) running or reserved)"
                )
                time.sleep(2)
                shop.worker.start()
                report.step(f"worker restarted, pid {shop.worker.pid}")
            poster.join(timeout=max(1, deadline - time.monotonic()))
            accepted = sum(1 for status in answers if status == 200)
            report.step(f"posted {len(answers)} events, {accepted} answered 200")
            settled = wait_for_inbox(report, total, timeout=420, shop=shop)

            report.check(
                "every delivery answered 200",
                accepted == total,
                f"{accepted}/{total}",
            )
            report.check(
                f"the worker was killed mid-run {len(KILLS_AT)} times",
                len(kills) == len(KILLS_AT) and all(0 < h < total for h, _ in kills),
                ", ".join(f"at {h} handled ({b} in flight)" for h, b in kills),
            )
            report.check("the inbox settled after the restarts", settled)
            rows = WebhookEvent.objects.filter(stripe_event_id__startswith="evt_kill_")
            processed_once = rows.filter(status="processed", attempts=1).count()
            others = rows.exclude(status="processed", attempts=1)
            report.check(
                "every event processed, its effect committed exactly once (attempts == 1)",
                processed_once == total,
                f"{processed_once}/{total}; others: "
                f"{list(others.values_list('status', 'attempts')[:5])}",
            )
            check_paid_once(report, shop, [o for o, _ in seeded], product_id)
        finally:
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
