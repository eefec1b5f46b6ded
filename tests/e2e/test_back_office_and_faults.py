"""Refunds from the admin, disputes, and fault runs, end to end on real processes."""

import re
import uuid

import requests
from django.contrib.auth.models import Permission

from audit.models import AuditEntry
from payments.models import PaymentAttempt, WebhookEvent
from tests.e2e.stack import Shopper, confirm_as_stripe_js, eventually
from tests.factories import ProductFactory, UserFactory

PASSWORD = "staff password 42 long enough"


def paid_order(stack, amount=4000):
    product = ProductFactory(unit_amount=amount, stock=5)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    assert confirm_as_stripe_js(stack, started, "pm_card_visa").status_code == 200
    shopper.wait_for_status(order["id"], "paid")
    return shopper, order, started


def staff_session(stack, *codenames) -> requests.Session:
    staff = UserFactory(is_staff=True, email=f"staff-{uuid.uuid4().hex[:6]}@example.com")
    staff.set_password(PASSWORD)
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    http = requests.Session()
    login = f"{stack.url}/admin/login/"
    page = http.get(login, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = http.post(
        login,
        data={
            "username": staff.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert answer.status_code == 200 and "Log out" in answer.text, answer.text[-500:]
    return http


def started_pi(order) -> str:
    return PaymentAttempt.objects.get(order_id=order["id"]).stripe_payment_intent_id


def refund_from_admin(stack, http, order_id, amount: str):
    url = f"{stack.url}/admin/orders/order/{order_id}/refund/"
    form = http.get(url, timeout=10).text
    fields = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1],
        "request_id": re.search(r'name="request_id" value="([^"]+)"', form)[1],
        "amount": amount,
        "reason": "Damaged in transit",
    }
    confirm = http.post(url, data=fields, headers={"Referer": url}, timeout=10)
    assert "confirm-text" in confirm.text, confirm.text[-800:]
    done = http.post(
        url, data={**fields, "confirmed": "True"}, headers={"Referer": url}, timeout=30
    )
    assert done.status_code == 200 and "sent to Stripe" in done.text, done.text[-800:]


def test_refunds_from_the_admin_partial_then_full(stack):
    shopper, order, _ = paid_order(stack, amount=4000)
    http = staff_session(stack, "view_order", "refund_order")
    refund_from_admin(stack, http, order["id"], "15.00")
    partly = shopper.wait_for_status(order["id"], "partially_refunded")
    assert partly["amount_refunded"] == 1500
    refund_from_admin(stack, http, order["id"], "25.00")
    refunded = shopper.wait_for_status(order["id"], "refunded")
    assert refunded["amount_refunded"] == 4000
    client = stack.emulator.client()
    at_stripe = client.v1.refunds.list(params={"payment_intent": started_pi(order)})
    assert sorted(r.amount for r in at_stripe.data) == [1500, 2500]


def test_dispute_lost_then_charged_back(stack):
    shopper, order, started = paid_order(stack)
    status, dispute = stack.emulator.control(
        "POST", "/disputes", {"payment": started["payment_intent_id"]}
    )
    assert status == 200, dispute
    shopper.wait_for_status(order["id"], "disputed")
    stack.emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "lost"})
    shopper.wait_for_status(order["id"], "charged_back")
    eventually(lambda: _subject_contains(stack, f"Dispute opened on order {order['number']}"))


def test_dispute_won_goes_back_to_paid(stack):
    shopper, order, started = paid_order(stack)
    _, dispute = stack.emulator.control(
        "POST", "/disputes", {"payment": started["payment_intent_id"]}
    )
    shopper.wait_for_status(order["id"], "disputed")
    stack.emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "won"})
    shopper.wait_for_status(order["id"], "paid")


def _subject_contains(stack, text):
    assert any(text in subject for subject in stack.mail_subjects()), stack.mail_subjects()


def test_duplicated_and_reordered_deliveries_end_in_the_same_state(stack):
    """A payment, a dispute and its loss, delivered twice each and newest first."""
    product = ProductFactory(unit_amount=4000, stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    stack.emulator.control("POST", "/webhooks/modes", {"mode": "duplicate"})
    stack.emulator.control("POST", "/webhooks/modes", {"mode": "reorder", "batch": 100})
    try:
        assert confirm_as_stripe_js(stack, started, "pm_card_visa").status_code == 200
        _, dispute = stack.emulator.control(
            "POST", "/disputes", {"payment": started["payment_intent_id"]}
        )
        stack.emulator.control("POST", f"/disputes/{dispute['id']}/resolve", {"outcome": "lost"})
        assert shopper.get(f"orders/{order['id']}/").json()["status"] == "pending_payment"
        stack.emulator.control("DELETE", "/webhooks/modes?mode=reorder")
        stack.emulator.control("POST", "/webhooks/flush")  # newest first, each twice
        done = shopper.wait_for_status(order["id"], "charged_back", timeout=60)
    finally:
        stack.emulator.control("DELETE", "/webhooks/modes")
        stack.emulator.control("POST", "/webhooks/flush")
    # The same end as in order, once each (test_dispute_lost_then_charged_back).
    assert done["payment"]["status"] == "succeeded"
    attempt = PaymentAttempt.objects.get(order_id=order["id"])
    assert attempt.amount_received == 4000
    events = WebhookEvent.objects.filter(payment_intent_id=started["payment_intent_id"])
    ids = list(events.values_list("stripe_event_id", flat=True))
    assert len(ids) == len(set(ids))
    doubled = events.exclude(type="payment_intent.created")  # made before the storm began
    for event_id in doubled.values_list("stripe_event_id", flat=True):
        _, deliveries = stack.emulator.control("GET", f"/deliveries?event_id={event_id}")
        assert len(deliveries["data"]) >= 2, deliveries  # really delivered twice
    assert AuditEntry.objects.filter(order_id=order["id"], action="payment.succeeded").count() == 1
    assert AuditEntry.objects.filter(order_id=order["id"], action="dispute.opened").count() == 1


def test_stripe_failing_then_recovering_makes_one_payment_intent(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    # Stripe makes the PaymentIntent, then answers 500: the answer is lost, not the work.
    stack.emulator.control(
        "POST",
        "/faults",
        {"kind": "500", "count": 2, "when": "after", "path_prefix": "/v1/payment_intents"},
    )
    try:
        answers = []
        for _ in range(4):  # the shopper's client retries with the same Idempotency-Key
            answer = shopper.post(f"orders/{order['id']}/payment-intent/", key="click-once")
            answers.append(answer.status_code)
            if answer.status_code == 201:
                break
    finally:
        stack.emulator.control("DELETE", "/faults")
    assert answers[0] == 503 and answers[-1] == 201, answers
    client = stack.emulator.client()
    intents = [
        pi
        for pi in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if pi.metadata.get("order_id") == str(order["id"])
    ]
    assert len(intents) == 1
    assert intents[0].id == answer.json()["payment_intent_id"]
    assert PaymentAttempt.objects.filter(order_id=order["id"]).count() == 1


def test_a_dropped_webhook_is_repaired_by_reconcile(stack):
    product = ProductFactory(stock=2)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    stack.emulator.control("POST", "/webhooks/modes", {"mode": "drop"})
    try:
        assert confirm_as_stripe_js(stack, started, "pm_card_visa").status_code == 200
    finally:
        stack.emulator.control("DELETE", "/webhooks/modes")
    assert shopper.get(f"orders/{order['id']}/").json()["status"] == "pending_payment"

    listed = stack.manage("reconcile", "--since", "1")
    assert listed.returncode == 0, listed.stderr
    assert "MISMATCH undelivered_event" in listed.stdout
    fixed = stack.manage("reconcile", "--since", "1", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert "fixed: stored and processed: processed" in fixed.stdout
    shopper.wait_for_status(order["id"], "paid")
