"""Real threads delivering events at once, on PostgreSQL."""

import json
import random

import pytest
from django.core import mail

from audit.models import AuditEntry
from payments.models import Refund, WebhookEvent
from tests import stripe_events as se
from tests.concurrency import run_in_threads
from tests.conftest import ShopClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deliver_all(payloads: list[bytes], threads: int):
    """`threads` workers deliver `payloads` (in the given order, interleaved)."""
    chunks = [payloads[i::threads] for i in range(threads)]

    def worker(chunk):
        client = ShopClient()
        return [se.deliver(client, payload).status_code for payload in chunk]

    return [
        code for codes in run_in_threads([lambda c=c: worker(c) for c in chunks]) for code in codes
    ]


def test_fifty_deliveries_of_one_event_make_one_transition_one_audit_entry_one_email(start_payment):
    attempt = start_payment()
    mail.outbox.clear()
    payload = json.dumps(se.event("payment_intent.succeeded", se.payment_intent(attempt))).encode()

    codes = deliver_all([payload] * 50, threads=50)

    assert codes == [200] * 50
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().status == "processed"
    attempt.order.refresh_from_db()
    assert attempt.order.status == "paid"
    assert AuditEntry.objects.filter(action="payment.succeeded").count() == 1
    assert len(mail.outbox) == 1
    product_rows = [line.product for line in attempt.order.lines.all()]
    for product in product_rows:
        product.refresh_from_db()
        assert product.reserved == 0 and product.sold > 0


def test_fifty_refund_events_for_one_charge_in_random_order_give_the_exact_total(start_payment):
    attempt = start_payment(lines=((5000, 1),))
    paid = json.dumps(se.event("payment_intent.succeeded", se.payment_intent(attempt)))
    se.deliver(ShopClient(), paid.encode())
    pi = attempt.stripe_payment_intent_id
    # 25 refunds of 100, each announced pending then succeeded, plus duplicates.
    events = []
    for n in range(25):
        events.append(
            se.event(
                "refund.created", se.refund(pi, amount=100, status="pending", refund_id=f"re_{n}")
            )
        )
        events.append(se.event("refund.updated", se.refund(pi, amount=100, refund_id=f"re_{n}")))
    payloads = [json.dumps(e).encode() for e in events]
    payloads += random.Random(7).sample(payloads, 10)  # redeliveries
    random.Random(42).shuffle(payloads)

    codes = deliver_all(payloads, threads=10)

    assert set(codes) == {200}
    assert WebhookEvent.objects.filter(type__startswith="refund.").count() == 50
    assert Refund.objects.count() == 25
    assert set(Refund.objects.values_list("status", flat=True)) == {"succeeded"}
    attempt.order.refresh_from_db()
    assert attempt.order.amount_refunded == 2500
    assert attempt.order.status == "partially_refunded"
