#!/usr/bin/env python
"""A storm of duplicated and reordered deliveries ends where one in-order delivery ends.

Two identical sets of FAULTS_STORM_ORDERS (200) orders are seeded, each order with a
scenario (paid; failed then paid on a second attempt; 3-D Secure then paid; paid and partly
refunded; paid and refunded in two parts; disputes lost and won; failed only; canceled;
paid with the wrong amount). The same Stripe-shaped events (own ids per set) go:

- to set A once each, in order: an order's next event is sent only when the previous one is
  handled (orders in parallel lanes);
- to set B three times each, at random moments spread over a minute (shuffled: a refund
  before its payment, a dispute's closing before its opening, duplicates side by side).

Invariant: for every scenario the final state of B's order equals A's: order status and
refunded total, each attempt's status and amounts, refunds, disputes; and the same audit
entries. E-mails are compared too and differences are listed.
"""

import concurrent.futures
import itertools
import os
import random
import sys
import threading
import time
from collections import Counter

import requests
from harness import Shop, base_env, fault_database, setup_django
from injection import event, payment_intent, seed_orders, signed_post
from invariants import wait_for_inbox
from reporting import Report

ORDERS = int(os.environ.get("FAULTS_STORM_ORDERS", "200"))
COPIES, SPREAD_SECONDS = 3, 60.0
AMOUNT = 1500
SCENARIOS = (
    "paid",
    "failed_then_paid",
    "3ds_then_paid",
    "partial_refund",
    "refund_in_two_parts",
    "dispute_lost",
    "dispute_won",
    "failed_only",
    "canceled",
    "wrong_amount",
)


def scenario_events(tag: str, kind: str, order_id: int, pis: list[str], t0: int) -> list[dict]:
    """The events Stripe would send for one order's story, oldest first."""
    pi1, pi2 = pis
    ch = f"ch_{pi1[3:]}"
    seq = iter(range(100))
    out = []

    def add(type_, obj):
        n = next(seq)
        out.append(event(f"evt_{tag}_{order_id}_{n}", type_, obj, t0 + n))

    def pi(pi_id, number, status, **kw):
        obj = payment_intent(pi_id, order_id, number, AMOUNT, status=status)
        obj.update(kw)
        return obj

    def refund(name, amount, status):
        return {
            "id": f"re_{tag}_{order_id}_{name}",
            "object": "refund",
            "amount": amount,
            "charge": ch,
            "currency": "usd",
            "payment_intent": pi1,
            "status": status,
            "reason": "requested_by_customer",
            "failure_reason": None,
            "metadata": {},
        }

    def dispute(status):
        return {
            "id": f"du_{tag}_{order_id}",
            "object": "dispute",
            "amount": AMOUNT,
            "charge": ch,
            "currency": "usd",
            "payment_intent": pi1,
            "reason": "fraudulent",
            "status": status,
            "is_charge_refundable": False,
            "created": t0,
            "livemode": False,
            "metadata": {},
            "evidence_details": {"due_by": t0 + 7 * 86400, "has_evidence": False},
        }

    declined = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
    if kind == "failed_then_paid":
        add(
            "payment_intent.payment_failed",
            pi(pi1, 1, "requires_payment_method", last_payment_error=declined),
        )
        add("payment_intent.succeeded", pi(pi2, 2, "succeeded"))
        return out
    if kind == "failed_only":
        add("payment_intent.requires_action", pi(pi1, 1, "requires_action"))
        add(
            "payment_intent.payment_failed",
            pi(pi1, 1, "requires_payment_method", last_payment_error=declined),
        )
        return out
    if kind == "canceled":
        add("payment_intent.canceled", pi(pi1, 1, "canceled"))
        return out
    if kind == "3ds_then_paid":
        add("payment_intent.requires_action", pi(pi1, 1, "requires_action"))
    if kind == "wrong_amount":
        add("payment_intent.succeeded", pi(pi1, 1, "succeeded", amount_received=AMOUNT - 100))
        return out
    add("payment_intent.created", pi(pi1, 1, "requires_payment_method"))
    add("payment_intent.succeeded", pi(pi1, 1, "succeeded"))
    add(
        "charge.succeeded",
        {
            "id": ch,
            "object": "charge",
            "payment_intent": pi1,
            "metadata": {"order_id": str(order_id)},
        },
    )
    if kind == "partial_refund":
        add("refund.created", refund("a", 500, "succeeded"))
        add(
            "charge.refunded",
            {
                "id": ch,
                "object": "charge",
                "payment_intent": pi1,
                "amount_refunded": 500,
                "refunded": False,
            },
        )
    elif kind == "refund_in_two_parts":
        add("refund.created", refund("a", 500, "succeeded"))
        add("refund.created", refund("b", 1000, "pending"))
        add("refund.updated", refund("b", 1000, "succeeded"))
        add("charge.refund.updated", refund("b", 1000, "succeeded"))
    elif kind == "dispute_lost":
        add("charge.dispute.created", dispute("needs_response"))
        add("charge.dispute.funds_withdrawn", dispute("needs_response"))
        add("charge.dispute.updated", dispute("under_review"))
        add("charge.dispute.closed", dispute("lost"))
    elif kind == "dispute_won":
        add("charge.dispute.created", dispute("needs_response"))
        add("charge.dispute.funds_withdrawn", dispute("needs_response"))
        add("charge.dispute.closed", dispute("won"))
        add("charge.dispute.funds_reinstated", dispute("won"))
    return out


def final_state(order_id: int, tag: str, subjects: Counter) -> dict:
    from audit.models import AuditEntry
    from orders.models import Order
    from payments.models import Dispute, PaymentAttempt, Refund

    order = Order.objects.get(pk=order_id)

    def strip(value: str) -> str:
        return value.replace(f"_{tag}_{order_id}", "")

    return {
        "order": (order.status, order.amount_refunded),
        "attempts": sorted(
            PaymentAttempt.objects.filter(order=order).values_list(
                "number", "status", "amount_received", "amount_refunded", "failure_code"
            )
        ),
        "refunds": sorted(
            (strip(r), s, a)
            for r, s, a in Refund.objects.filter(order=order).values_list(
                "stripe_refund_id", "status", "amount"
            )
        ),
        "disputes": sorted(
            (strip(d), s, w)
            for d, s, w in Dispute.objects.filter(order=order).values_list(
                "stripe_dispute_id", "status", "funds_withdrawn"
            )
        ),
        "audit": sorted(
            Counter(
                AuditEntry.objects.filter(order_id=order_id).values_list("action", flat=True)
            ).items()
        ),
        "mails": sorted(
            (s.replace(order.number, "<n>"), c) for s, c in subjects.items() if order.number in s
        ),
    }


def main() -> int:
    report = Report("delivery_storm")
    with fault_database("delivery_storm", report) as db_url:
        setup_django(base_env(db_url))
        from django.db import connection

        from payments.models import WebhookEvent

        _, set_a = seed_orders(ORDERS, prefix="sta", attempts=2, amount=AMOUNT)
        _, set_b = seed_orders(ORDERS, prefix="stb", attempts=2, amount=AMOUNT)
        t0 = int(time.time()) - 600
        stories_a, stories_b = [], []
        for k in range(ORDERS):
            kind = SCENARIOS[k % len(SCENARIOS)]
            stories_a.append(scenario_events("sta", kind, set_a[k][0], set_a[k][1], t0))
            stories_b.append(scenario_events("stb", kind, set_b[k][0], set_b[k][1], t0))
        total_a = sum(len(s) for s in stories_a)
        connection.close()
        report.step(
            f"seeded 2 x {ORDERS} orders over {len(SCENARIOS)} scenarios; {total_a} events a set"
        )

        shop = Shop(db_url)
        try:
            # --- A: once each, in order, the next only when the previous is handled
            local = threading.local()
            stories = iter(stories_a)
            lock = threading.Lock()
            problems = []

            def lane():
                session = requests.Session()
                while True:
                    with lock:
                        story = next(stories, None)
                    if story is None:
                        break
                    for evt in story:
                        answer = signed_post(session, shop.url, evt)
                        if answer.status_code != 200:
                            problems.append((evt["id"], answer.status_code))
                        deadline = time.monotonic() + 30
                        while time.monotonic() < deadline:
                            row = WebhookEvent.objects.filter(stripe_event_id=evt["id"]).first()
                            if row is not None and row.status != "received":
                                break
                            time.sleep(0.05)
                        else:
                            problems.append((evt["id"], "not handled in 30s"))
                connection.close()

            lanes = [threading.Thread(target=lane) for _ in range(6)]
            for thread in lanes:
                thread.start()
            for thread in lanes:
                thread.join(300)
            report.step(
                f"set A: {total_a} events delivered once, in order ({len(problems)} problems)"
            )

            # --- B: three copies each, at random moments over a minute
            rng = random.Random(8)  # noqa: S311 (a reproducible shuffle, not a secret)
            copies = [
                (rng.uniform(0, SPREAD_SECONDS), evt)
                for story in stories_b
                for evt in story
                for _ in range(COPIES)
            ]
            copies.sort(key=lambda item: item[0])
            inversions = sum(
                1
                for story in stories_b
                for earlier, later in itertools.pairwise(story)
                if min(t for t, e in copies if e is later)
                < min(t for t, e in copies if e is earlier)
            )
            start = time.monotonic()
            statuses = []

            def send(item):
                at, evt = item
                time.sleep(max(0.0, start + at - time.monotonic()))
                if not hasattr(local, "session"):
                    local.session = requests.Session()
                try:
                    statuses.append(signed_post(local.session, shop.url, evt).status_code)
                except requests.RequestException:
                    statuses.append(None)

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(send, copies))
            report.step(
                f"set B: {len(copies)} deliveries ({COPIES} per event) over "
                f"{time.monotonic() - start:.0f}s; {inversions} event pairs arrived first "
                f"in the wrong order"
            )
            settled = wait_for_inbox(report, 2 * total_a, timeout=240, shop=shop)
            report.check(
                "set A: every in-order delivery answered 200 and was handled",
                not problems,
                f"{problems[:5]}",
            )
            report.check(
                "set B: every storm delivery answered 200",
                statuses.count(200) == len(copies),
                f"{statuses.count(200)}/{len(copies)}",
            )
            report.check(
                "the inbox settled (nothing received or failed)",
                settled,
                f"{dict(Counter(WebhookEvent.objects.values_list('status', flat=True)))}",
            )

            subjects = Counter(shop.mail_subjects())
            state_keys = ("order", "attempts", "refunds", "disputes")
            differ, audit_differ, history = [], [], []
            by_kind = Counter()
            for k in range(ORDERS):
                a = final_state(set_a[k][0], "sta", subjects)
                b = final_state(set_b[k][0], "stb", subjects)
                kind = SCENARIOS[k % len(SCENARIOS)]
                by_kind[(kind, a["order"][0])] += 1
                if [a[x] for x in state_keys] != [b[x] for x in state_keys]:
                    differ.append((kind, a, b))
                # Entries that record money moving must match one for one; refund.updated
                # records each change seen, and a storm may skip a refund's pending step.
                money_a = [x for x in a["audit"] if x[0] != "refund.updated"]
                money_b = [x for x in b["audit"] if x[0] != "refund.updated"]
                mails_a = [m for m in a["mails"] if "Receipt" in m[0] or "review" in m[0]]
                mails_b = [m for m in b["mails"] if "Receipt" in m[0] or "review" in m[0]]
                if money_a != money_b or mails_a != mails_b:
                    audit_differ.append((kind, a["audit"], b["audit"], a["mails"], b["mails"]))
                elif a["audit"] != b["audit"] or a["mails"] != b["mails"]:
                    history.append((kind, a["audit"], b["audit"], a["mails"], b["mails"]))
            report.step(
                "final order states of set A: "
                + ", ".join(f"{kind} -> {status}" for (kind, status), _ in sorted(by_kind.items()))
            )
            for kind, a, b in differ[:5]:
                report.step(f"DIFFERS {kind}:\n  in order: {a}\n  storm:    {b}")
            report.check(
                "final states after the storm equal those of the in-order single delivery",
                not differ,
                f"{ORDERS - len(differ)}/{ORDERS} orders equal: status, refunded total, "
                "attempts (status, amounts, failure), refunds, disputes (status, funds)",
            )
            for kind, *rest in audit_differ[:5]:
                report.step(f"AUDIT/RECEIPTS DIFFER {kind}: {rest}")
            report.check(
                "the same payment, dispute and review audit entries, receipts and review alerts",
                not audit_differ,
                f"{ORDERS - len(audit_differ)}/{ORDERS} orders",
            )
            seen = set()
            for kind, audit_a, audit_b, mails_a, mails_b in history:
                if kind in seen:
                    continue
                seen.add(kind)
                report.step(
                    f"history differs (expected) for {kind}: audit {audit_a} vs {audit_b}; "
                    f"e-mails {mails_a} vs {mails_b}"
                )
            report.step(
                f"{len(history)} order(s) with another history but the same outcome: a storm "
                "skips intermediate steps (a refund's pending state), a dispute first heard of "
                "closed sends no 'opened' alert, a failure reported after the order was paid "
                "sends no 'payment failed' e-mail"
            )
        finally:
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
