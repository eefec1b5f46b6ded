"""The back office, driven as staff through Django's test client."""

import re
import uuid

import pytest

from audit.models import AuditEntry
from orders.models import Order
from payments.models import Dispute, Refund, WebhookEvent
from payments.refunds.services import refundable_amount
from tests import stripe_events as se
from tests.concurrency import run_in_threads
from tests.staff import confirm_at_stripe, refund_url, staff_with, submit_refund

pytestmark = pytest.mark.django_db


class TestOrderPages:
    def test_list_filters_search_and_detail(self, staff_client, paid_order):
        client = staff_client("view_order")
        listing = client.get("/admin/orders/order/?status__exact=paid")
        assert listing.status_code == 200
        assert paid_order.number.encode() in listing.content
        pi = paid_order.payment_attempts.get().stripe_payment_intent_id
        found = client.get(f"/admin/orders/order/?q={pi}")
        assert paid_order.number.encode() in found.content
        review = client.get("/admin/orders/order/?attention=needs_review")
        assert paid_order.number.encode() not in review.content

        page = client.get(f"/admin/orders/order/{paid_order.pk}/change/")
        text = page.content.decode()
        assert page.status_code == 200
        assert f"https://dashboard.stripe.com/test/payments/{pi}" in text
        assert "payment.succeeded" in text and "order.created" in text  # audit trail
        assert paid_order.lines.first().sku in text
        assert "Refund</a>" not in text  # no refund permission, no button

    def test_without_view_permission_staff_see_nothing(self, staff_client, paid_order):
        client = staff_client()
        assert client.get(f"/admin/orders/order/{paid_order.pk}/change/").status_code == 403


class TestRefunds:
    def test_partial_then_full_refund(self, staff_client, paid_order, send_event, stripe_fake):
        client = staff_client("view_order", "refund_order")
        form = client.get(refund_url(paid_order))
        assert form.status_code == 200
        assert b'value="68.00"' in form.content  # prefilled with what is refundable

        done = submit_refund(client, paid_order, "18.00")
        assert done.status_code == 302
        [sent] = stripe_fake.sent("POST", "/v1/refunds")
        refund = Refund.objects.get()
        assert sent.params["amount"] == "1800"
        assert (
            sent.params["payment_intent"]
            == paid_order.payment_attempts.get().stripe_payment_intent_id
        )
        assert sent.idempotency_key == f"refund-{refund.idempotency_uuid}"
        assert (refund.status, refund.created_by) == ("pending", client.user)
        paid_order.refresh_from_db()
        assert (paid_order.status, paid_order.amount_refunded) == ("paid", 0)

        confirm_at_stripe(send_event, stripe_fake)
        paid_order.refresh_from_db()
        assert (paid_order.status, paid_order.amount_refunded) == ("partially_refunded", 1800)
        assert b'value="50.00"' in client.get(refund_url(paid_order)).content

        submit_refund(client, paid_order, "50.00")
        confirm_at_stripe(send_event, stripe_fake)
        paid_order.refresh_from_db()
        assert (paid_order.status, paid_order.amount_refunded) == ("refunded", 6800)
        assert Refund.objects.filter(status="succeeded").count() == 2
        entries = AuditEntry.objects.filter(action="refund.requested", actor=client.user)
        assert sorted(e.amount for e in entries) == [1800, 5000]

    def test_double_submission_of_one_form_refunds_once(
        self, staff_client, paid_order, stripe_fake
    ):
        client = staff_client("view_order", "refund_order")
        request_id = str(uuid.uuid4())
        submit_refund(client, paid_order, "10.00", request_id)
        again = client.post(
            refund_url(paid_order),
            {"amount": "10.00", "reason": "x", "request_id": request_id, "confirmed": "True"},
            follow=True,
        )
        assert b"already submitted" in again.content
        assert len(stripe_fake.sent("POST", "/v1/refunds")) == 1
        assert Refund.objects.count() == 1

    def test_over_refund_is_refused_with_a_clear_message(
        self, staff_client, paid_order, stripe_fake
    ):
        client = staff_client("view_order", "refund_order")
        response = client.post(
            refund_url(paid_order),
            {"amount": "68.01", "reason": "x", "request_id": str(uuid.uuid4())},
        )
        assert b"At most 68.00 USD can be refunded" in response.content
        assert stripe_fake.sent("POST", "/v1/refunds") == []

    def test_an_unpaid_order_cannot_be_refunded(self, staff_client, start_payment, stripe_fake):
        order = start_payment().order
        client = staff_client("view_order", "refund_order")
        page = client.get(refund_url(order))
        assert b"Nothing can be refunded" in page.content
        response = client.post(
            refund_url(order),
            {"amount": "1.00", "reason": "x", "request_id": str(uuid.uuid4()), "confirmed": "True"},
            follow=True,
        )
        assert stripe_fake.sent("POST", "/v1/refunds") == []
        assert b"can be refunded" in response.content

    def test_refund_needs_its_own_permission(self, staff_client, paid_order, stripe_fake):
        client = staff_client("view_order", "change_order")
        assert client.get(refund_url(paid_order)).status_code == 403
        assert (
            client.post(
                refund_url(paid_order),
                {
                    "amount": "1.00",
                    "reason": "x",
                    "request_id": str(uuid.uuid4()),
                    "confirmed": "True",
                },
            ).status_code
            == 403
        )
        assert not Refund.objects.exists()

    def test_stripe_down_keeps_the_refund_pending_and_the_same_form_retries_it(
        self, staff_client, paid_order, stripe_fake
    ):
        from tests.stripe_fake import CONNECTION

        client = staff_client("view_order", "refund_order")
        request_id = str(uuid.uuid4())
        stripe_fake.fail_next(CONNECTION)
        failed = submit_refund(client, paid_order, "5.00", request_id)
        assert failed.status_code == 302
        assert Refund.objects.get().stripe_refund_id is None
        client.post(
            refund_url(paid_order),
            {"amount": "5.00", "reason": "x", "request_id": request_id, "confirmed": "True"},
        )
        keys = {r.idempotency_key for r in stripe_fake.sent("POST", "/v1/refunds")}
        assert keys == {f"refund-{request_id}"}
        assert Refund.objects.get().stripe_refund_id is not None

    def test_a_refund_stripe_refuses_is_failed_and_frees_the_amount(
        self, staff_client, paid_order, stripe_fake
    ):
        from tests.stripe_fake import INVALID

        client = staff_client("view_order", "refund_order")
        stripe_fake.fail_next(INVALID)
        refused = submit_refund(client, paid_order, "5.00")
        assert refused.status_code == 302
        refund = Refund.objects.get()
        assert (refund.status, refund.failure_reason) == ("failed", "refused by Stripe")
        assert refund.stripe_refund_id is None
        assert AuditEntry.objects.filter(
            action="refund.request", outcome="failed", details__code="stripe_request_refused"
        ).exists()
        # A failed refund holds no money: the whole payment can still be refunded.
        assert refundable_amount(refund.attempt) == refund.attempt.amount_received > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_cannot_exceed_what_was_paid(
    paid_order, stripe_fake, client_for
):
    from django.test import Client

    clients = []
    for _ in range(2):
        c = Client()
        c.force_login(staff_with("view_order", "refund_order"))
        clients.append(c)

    def refund(c):
        return c.post(
            refund_url(paid_order),
            {
                "amount": "40.00",
                "reason": "x",
                "request_id": str(uuid.uuid4()),
                "confirmed": "True",
            },
            follow=True,
        )

    responses = run_in_threads([lambda c=c: refund(c) for c in clients])
    assert len(stripe_fake.sent("POST", "/v1/refunds")) == 1
    assert Refund.objects.count() == 1
    # The loser is refused by the service ("can still be refunded") or, when it starts after
    # the winner committed, already by the form ("can be refunded").
    assert any(re.search(rb"can (still )?be refunded", r.content) for r in responses)


class TestFulfilAndCancel:
    def test_mark_fulfilled_needs_the_permission(self, staff_client, paid_order):
        url = f"/admin/orders/order/{paid_order.pk}/fulfil/"
        assert staff_client("view_order").post(url).status_code == 403
        client = staff_client("view_order", "fulfil_order")
        assert client.post(url).status_code == 302
        paid_order.refresh_from_db()
        assert paid_order.status == "fulfilled"
        assert AuditEntry.objects.filter(action="order.fulfilled", actor=client.user).exists()

    def test_staff_cancel_an_unpaid_order(self, staff_client, start_payment, stripe_fake):
        order = start_payment().order
        client = staff_client("view_order", "change_order")
        response = client.post(f"/admin/orders/order/{order.pk}/cancel/", follow=True)
        assert b"Order cancelled" in response.content
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert stripe_fake.sent("POST", "/v1/payment_intents/")  # its PaymentIntent closed


class TestDisputesEventsAndAudit:
    def test_disputes_soonest_first_with_overdue_marked(self, staff_client, paid_order, send_event):
        pi = paid_order.payment_attempts.get().stripe_payment_intent_id
        send_event(
            se.event(
                "charge.dispute.created",
                se.dispute(pi, amount=6800, dispute_id="dp_late", due_by=1_000_000_000),
            )
        )
        client = staff_client("view_dispute")
        page = client.get("/admin/payments/dispute/").content.decode()
        assert "dp_late" in page and paid_order.number in page
        assert 'alt="True"' in page  # overdue
        overdue = client.get("/admin/payments/dispute/?evidence=overdue").content.decode()
        assert "dp_late" in overdue
        assert Dispute.objects.get().status == "needs_response"

    def test_failed_event_is_shown_escaped_and_replayed(
        self, staff_client, send_event, start_payment, settings
    ):
        settings.WEBHOOK_MAX_ATTEMPTS = 1
        attempt = start_payment()
        hostile = se.payment_intent(attempt, description="<script>alert(1)</script>")
        hostile["id"] = "pi_not_recorded"
        hostile["metadata"] = {**hostile["metadata"], "attempt": "7"}  # not recorded yet
        send_event(se.event("payment_intent.succeeded", hostile))
        event = WebhookEvent.objects.get()
        assert event.status == "failed"

        client = staff_client("view_webhookevent", "replay_webhookevent")
        page = client.get(f"/admin/payments/webhookevent/{event.pk}/change/").content
        assert b"<script>alert(1)</script>" not in page
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page

        attempt.number = 7  # the attempt the event names now exists
        attempt.stripe_payment_intent_id = "pi_not_recorded"
        attempt.save()
        response = client.post(
            "/admin/payments/webhookevent/",
            {"action": "replay", "_selected_action": [event.pk]},
            follow=True,
        )
        assert b"Replayed 1 event(s)" in response.content
        event.refresh_from_db()
        assert event.status == "processed"
        assert Order.objects.get(pk=attempt.order_id).status == "paid"

    def test_replay_needs_its_permission(self, staff_client, send_event, start_payment):
        send_event(se.event("customer.created", {"id": "cus_1"}))
        event = WebhookEvent.objects.get()
        client = staff_client("view_webhookevent")
        page = client.get("/admin/payments/webhookevent/").content.decode()
        assert not re.search(r'value="replay"', page)
        assert event.status == "ignored"

    def test_audit_log_is_read_only_for_everybody(self, admin_client, paid_order):
        entry = AuditEntry.objects.filter(order_id=paid_order.pk).first()
        listing = admin_client.get(f"/admin/audit/auditentry/?q={paid_order.pk}")
        assert listing.status_code == 200
        assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
        assert (
            admin_client.post(
                f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}
            ).status_code
            == 403
        )
        page = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
        assert page.status_code == 200 and b'name="action"' not in page.content
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_audit_log_filters_by_actor_and_order(
        self, staff_client, paid_order, send_event, stripe_fake, start_payment
    ):
        client = staff_client("view_order", "refund_order", "view_auditentry")
        submit_refund(client, paid_order, "5.00")
        other = start_payment().order

        def actions(query):
            page = client.get(f"/admin/audit/auditentry/?{query}")
            assert page.status_code == 200
            return set(re.findall(r'class="field-action">([a-z_.]+)<', page.content.decode()))

        by_staff = actions("actor=staff")
        assert "refund.requested" in by_staff and "payment.succeeded" not in by_staff
        assert "payment.succeeded" in actions("actor=stripe")
        assert "refund.requested" not in actions("actor=shoppers")
        assert "order.created" in actions("actor=shoppers")
        assert "refund.requested" in actions(f"actor={client.user.pk}")

        one_order = client.get(f"/admin/audit/auditentry/?order={other.pk}").content.decode()
        assert f'/admin/orders/order/{other.pk}/change/">{other.number}</a>' in one_order
        assert paid_order.number not in one_order
        order_page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").content.decode()
        assert f"/admin/audit/auditentry/?order={paid_order.pk}" in order_page
