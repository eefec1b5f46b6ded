"""The dispute response page in the admin (/admin/payments/dispute/<id>/respond/), against
the Stripe emulator: permission, draft, submit with its confirmation, a double click,
accepting, and what is refused."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from orders.models import OrderStatus
from payments.models import Dispute

pytestmark = pytest.mark.django_db
RESPOND = "respond_dispute"


def page(dispute) -> str:
    return f"/admin/payments/dispute/{dispute.pk}/respond/"


def evidence_form(**fields) -> dict:
    return {
        "request_id": str(uuid.uuid4()),
        "product_description": "Blue mug, 350 ml",
        "shipping_tracking_number": "JD0142",
        **fields,
    }


def test_without_the_permission_the_page_and_its_actions_are_forbidden(
    open_dispute, staff_client, stripe_api
):
    dispute = open_dispute()
    client = staff_client("view_dispute", "view_order")
    assert client.get(page(dispute)).status_code == 403
    answer = client.post(
        page(dispute), {**evidence_form(), "action": "submit", "confirmed": "True"}
    )
    assert answer.status_code == 403
    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence_details.submission_count == 0
    assert not AuditEntry.objects.filter(action__startswith="dispute.evidence").exists()


def test_a_draft_is_saved_at_stripe_and_shown_again(open_dispute, staff_client, stripe_api):
    dispute = open_dispute()
    client = staff_client(RESPOND)
    shown = client.get(page(dispute))
    assert shown.status_code == 200
    assert b'id="evidence-form"' in shown.content

    saved = client.post(page(dispute), {**evidence_form(), "action": "draft"}, follow=True)

    assert b"saved as a draft" in saved.content
    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert (at_stripe.status, at_stripe.evidence.product_description) == (
        "needs_response",
        "Blue mug, 350 ml",
    )
    assert "Blue mug, 350 ml" in client.get(page(dispute)).content.decode()  # prefilled


def test_submit_asks_for_confirmation_then_submits_once_however_often_clicked(
    open_dispute, staff_client, stripe_api
):
    dispute = open_dispute()
    client = staff_client(RESPOND)
    form = evidence_form(uncategorized_text="Signed for.\nBy the shopper.")

    confirm = client.post(page(dispute), {**form, "action": "submit"})
    assert confirm.status_code == 200
    assert b"This cannot be undone" in confirm.content
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "needs_response"
    token = re.search(rb'name="request_id" value="([^"]+)"', confirm.content)[1].decode()
    assert token == form["request_id"]  # the confirmation carries the same submission

    confirmed = {**form, "action": "submit", "confirmed": "True"}
    done = client.post(page(dispute), confirmed, follow=True)
    again = client.post(page(dispute), confirmed, follow=True)  # a double click

    assert b"under review" in done.content
    assert b"no longer takes a response" in again.content
    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert (at_stripe.status, at_stripe.evidence_details.submission_count) == ("under_review", 1)
    assert at_stripe.evidence.uncategorized_text == "Signed for.\nBy the shopper."
    dispute.refresh_from_db()
    assert (dispute.status, dispute.submission_count) == ("under_review", 1)
    outcomes = AuditEntry.objects.filter(action="dispute.evidence_submit").order_by("id")
    assert [(e.outcome, e.actor_id) for e in outcomes] == [
        ("success", client.user.pk),
        ("refused", client.user.pk),
    ]


def test_accepting_asks_for_confirmation_then_charges_the_order_back(
    open_dispute, staff_client, stripe_api
):
    dispute = open_dispute()
    client = staff_client(RESPOND)
    request_id = str(uuid.uuid4())

    confirm = client.post(page(dispute), {"request_id": request_id, "action": "accept"})
    assert b"Yes, accept the dispute" in confirm.content
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "needs_response"
    done = client.post(
        page(dispute),
        {"request_id": request_id, "action": "accept", "confirmed": "True"},
        follow=True,
    )

    assert b"Dispute accepted" in done.content
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "lost"
    dispute.order.refresh_from_db()
    assert dispute.order.status == OrderStatus.CHARGED_BACK
    entry = AuditEntry.objects.get(action="dispute.accept")
    assert (entry.actor_id, entry.order_id) == (client.user.pk, dispute.order_id)


def test_evidence_longer_than_stripe_takes_is_shown_as_an_error_and_not_sent(
    open_dispute, staff_client, stripe_api
):
    dispute = open_dispute()
    client = staff_client(RESPOND)
    too_long = client.post(
        page(dispute), {**evidence_form(customer_name="x" * 5001), "action": "draft"}
    )
    assert too_long.status_code == 200
    assert b"at most 5000 characters" in too_long.content
    # Text staged at Stripe in fields the page does not show counts towards the 150,000.
    elsewhere = {"refund_refusal_explanation": "y" * 20000, "duplicate_charge_id": "y" * 5000}
    stripe_api.v1.disputes.update(
        dispute.stripe_dispute_id, params={"evidence": elsewhere, "submit": False}
    )
    shown = client.get(page(dispute)).content.decode()
    staged = re.search(r'name="staged_elsewhere" value="(\d+)"', shown)[1]
    assert staged == "25000"
    long_fields = [
        "product_description",
        "access_activity_log",
        "refund_policy_disclosure",
        "cancellation_rebuttal",
        "uncategorized_text",
    ]
    in_all = {name: "x" * 20000 for name in long_fields}
    short_fields = [
        "customer_name",
        "billing_address",
        "shipping_address",
        "shipping_date",
        "shipping_carrier",
        "shipping_tracking_number",
    ]
    in_all.update({name: "x" * 5000 for name in short_fields})
    in_all["staged_elsewhere"] = staged  # 130,000 here and 25,000 elsewhere
    refused = client.post(page(dispute), {**evidence_form(**in_all), "action": "draft"})
    assert b"at most 150,000 characters" in refused.content
    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence.product_description is None  # nothing of it was sent


def test_past_the_deadline_evidence_is_refused_with_a_clear_message_and_audited(
    open_dispute, staff_client, stripe_api
):
    dispute = open_dispute()
    Dispute.objects.filter(pk=dispute.pk).update(
        evidence_due_by=timezone.now() - datetime.timedelta(hours=1)
    )
    client = staff_client(RESPOND)
    assert b"The deadline for evidence has passed" in client.get(page(dispute)).content

    refused = client.post(
        page(dispute), {**evidence_form(), "action": "submit", "confirmed": "True"}, follow=True
    )

    assert b"has passed" in refused.content
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "needs_response"
    entry = AuditEntry.objects.get(action="dispute.evidence_submit")
    assert (entry.outcome, entry.details["code"]) == ("refused", "evidence_past_due")


def test_a_closed_dispute_offers_no_response(open_dispute, staff_client, emulator, deliveries):
    dispute = open_dispute()
    emulator.control("POST", f"/disputes/{dispute.stripe_dispute_id}/resolve", {"outcome": "won"})
    deliveries.feed_until("charge.dispute.funds_reinstated")
    client = staff_client(RESPOND, "view_order")

    shown = client.get(page(dispute)).content.decode()
    assert "This dispute is closed (won): it takes no more response." in shown
    assert 'id="evidence-form"' not in shown and 'id="accept-form"' not in shown
    order_page = client.get(f"/admin/orders/order/{dispute.order_id}/change/").content.decode()
    assert page(dispute) not in order_page


def test_the_order_page_links_an_open_dispute_to_its_response_page(open_dispute, staff_client):
    dispute = open_dispute()
    client = staff_client(RESPOND, "view_order")
    order_page = client.get(f"/admin/orders/order/{dispute.order_id}/change/")
    assert page(dispute) in order_page.content.decode()


def test_when_stripe_is_unreachable_confirming_again_submits_once(
    open_dispute, staff_client, stripe_api, emulator
):
    dispute = open_dispute()
    client = staff_client(RESPOND)
    confirmed = {**evidence_form(), "action": "submit", "confirmed": "True"}
    fault = {"kind": "500", "count": 1, "when": "after", "path_prefix": "/v1/disputes"}
    emulator.control("POST", "/faults", fault)  # Stripe takes it, the answer is lost

    lost = client.post(page(dispute), confirmed)

    assert lost.status_code == 200
    assert b"cannot be reached" in lost.content
    assert b"Yes, submit the evidence" in lost.content
    again = re.search(rb'name="request_id" value="([^"]+)"', lost.content)[1].decode()
    assert again == confirmed["request_id"]  # the confirmation is offered with the same key
    done = client.post(page(dispute), confirmed, follow=True)
    assert b"under review" in done.content
    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence_details.submission_count == 1
    outcomes = AuditEntry.objects.filter(action="dispute.evidence_submit").order_by("id")
    assert [e.outcome for e in outcomes] == ["failed", "success"]
