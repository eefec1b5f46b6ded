"""The checks the runs share: the inbox settles, and each order was paid exactly once."""

import time

from harness import Shop
from reporting import Report


def inbox_counts() -> dict:
    from django.db.models import Count

    from payments.models import WebhookEvent

    return dict(WebhookEvent.objects.values_list("status").annotate(n=Count("pk")))


def wait_for_inbox(report: Report, total: int, timeout: float, shop: Shop | None = None) -> bool:
    """Wait until `total` events are stored, none is still `received`, and every e-mail
    they decided has left the outbox (sent by its own task after the event's commit)."""
    from django.db import connection

    from notifications.models import OutboxEmail

    deadline = time.monotonic() + timeout
    last = 0.0
    while time.monotonic() < deadline:
        counts = inbox_counts()
        unsent = OutboxEmail.objects.filter(sent_at=None).count()
        connection.close()
        stored = sum(counts.values())
        if stored >= total and not counts.get("received") and not unsent:
            report.step(f"inbox settled: {counts}, outbox empty")
            return True
        if time.monotonic() - last > 15:
            report.step(f"inbox: {counts}, {unsent} e-mail(s) unsent (waiting for {total})")
            last = time.monotonic()
        time.sleep(1)
    report.step(f"inbox did not settle in {timeout:.0f}s: {inbox_counts()}")
    if shop is not None:
        report.step(shop.logs())
    return False


def check_paid_once(report: Report, shop: Shop, order_ids: list[int], product_id: int) -> None:
    """Each order paid once: status, one succeeded attempt, one audit entry, one receipt,
    its unit sold once; and the inbox holds nothing unhandled."""
    from collections import Counter

    from django.db.models import Count

    from audit.models import AuditEntry
    from catalog.models import Product
    from orders.models import Order
    from payments.models import AttemptStatus, PaymentAttempt, WebhookEvent

    n = len(order_ids)
    statuses = Counter(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True))
    report.check("every order is paid", statuses == Counter({"paid": n}), f"{dict(statuses)}")
    succeeded = Counter(
        PaymentAttempt.objects.filter(
            order_id__in=order_ids, status=AttemptStatus.SUCCEEDED
        ).values_list("order_id", flat=True)
    )
    report.check(
        "one succeeded attempt per order",
        len(succeeded) == n and set(succeeded.values()) == {1},
        f"{len(succeeded)} orders with a succeeded attempt",
    )
    audits = dict(
        AuditEntry.objects.filter(action="payment.succeeded", order_id__in=order_ids)
        .values_list("order_id")
        .annotate(c=Count("pk"))
    )
    twice = sum(1 for c in audits.values() if c > 1)
    report.check(
        "one payment.succeeded audit entry per order",
        len(audits) == n and twice == 0,
        f"{sum(audits.values())} entries for {n} orders, {twice} orders with more than one",
    )
    numbers = dict(Order.objects.filter(pk__in=order_ids).values_list("number", "pk"))
    # E-mail is at least once (notifications.services): a kill between the mail server's
    # answer and our commit sends it again, as the same message (one Message-ID), never a
    # second one.
    receipts = Counter()
    message_ids: dict[str, set[str]] = {}
    for subject, message_id in shop.mail_headers():
        if subject.startswith("Receipt for order "):
            number = subject.removeprefix("Receipt for order ")
            receipts[number] += 1
            message_ids.setdefault(number, set()).add(message_id)
    ours = {num: c for num, c in receipts.items() if num in numbers}
    missing = sorted(set(numbers) - set(ours))
    if missing:
        report.step(f"orders without a receipt: {missing[:10]}")
    repeated = sum(1 for c in ours.values() if c > 1)
    report.check(
        "one receipt per order (a repeat after a kill is the same message)",
        len(ours) == n and all(len(message_ids[num]) == 1 for num in ours),
        f"{len(ours)} of {n} orders have their receipt, {n - len(ours)} without; "
        f"{repeated} sent again after a kill with the same Message-ID",
    )
    product = Product.objects.get(pk=product_id)
    report.check(
        "each order's unit sold once",
        product.sold == n and product.reserved == 0,
        f"sold {product.sold}, reserved {product.reserved}, stock {product.stock}",
    )
    left = Counter(WebhookEvent.objects.values_list("status", flat=True))
    report.check(
        "no inbox event left received or failed",
        not left.get("received") and not left.get("failed"),
        f"{dict(left)}",
    )
