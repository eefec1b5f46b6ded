"""Staff answering a dispute (payments.disputes.services) against the Stripe emulator: what
reaches Stripe, what our rows and the order become, the audit trail, and the webhook
events Stripe sends afterwards changing nothing more."""

import datetime
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record_refusal
from orders.models import OrderStatus
from payments.disputes import services
from payments.errors import DisputeNotOpen, EvidenceOverdue, StripeRefused, StripeUnavailable
from payments.gateway import client as stripe_client
from payments.models import Dispute, WebhookEvent

EVIDENCE = {
    "product_description": "Blue mug, 350 ml, shipped in a padded box.",
    "customer_name": "Ada Lovelace",
    "shipping_carrier": "DHL",
    "shipping_tracking_number": "JD0142",
    "uncategorized_text": "Delivered on 2026-11-20 and signed for.",
}

pytestmark = pytest.mark.django_db


def entries(action: str, dispute: Dispute) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, order_id=dispute.order_id).order_by("id"))


def submit(dispute, staff, request_uuid=None, evidence=EVIDENCE, submit=True) -> Dispute:
    return services.save_evidence(
        dispute_id=dispute.pk,
        evidence=evidence,
        submit=submit,
        staff_user=staff,
        request_uuid=request_uuid or uuid.uuid4(),
    )


def test_a_draft_reaches_stripe_staged_and_submits_nothing(open_dispute, stripe_api, finance):
    dispute = open_dispute()

    saved = submit(dispute, finance, submit=False)

    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence.customer_name == "Ada Lovelace"
    assert at_stripe.evidence.shipping_tracking_number == "JD0142"
    assert at_stripe.evidence.billing_address is None  # left empty: not staged
    assert (at_stripe.status, at_stripe.evidence_details.submission_count) == ("needs_response", 0)
    assert (saved.status, saved.has_evidence, saved.submission_count) == (
        "needs_response",
        True,
        0,
    )
    (entry,) = entries("dispute.evidence_draft", dispute)
    assert (entry.actor, entry.outcome, entry.object_id) == (finance, "success", str(dispute.pk))
    assert (entry.amount, entry.currency) == (4200, "eur")
    assert entry.details["dispute"] == dispute.stripe_dispute_id
    assert entry.details["fields"] == [
        "product_description",
        "customer_name",
        "shipping_carrier",
        "shipping_tracking_number",
        "uncategorized_text",
    ]
    assert "Ada" not in str(entry.details)  # the trail names the fields, not their text


def test_submitted_evidence_puts_it_under_review_and_stripes_events_change_nothing_more(
    open_dispute, stripe_api, finance, deliveries
):
    dispute = open_dispute()
    submit(dispute, finance, submit=False, evidence={"customer_name": "Ada"})
    draft_event = deliveries.wait_for("charge.dispute.updated")

    submitted = submit(dispute, finance)

    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.status == "under_review"
    assert at_stripe.evidence_details.submission_count == 1
    assert at_stripe.evidence.product_description == EVIDENCE["product_description"]
    assert (submitted.status, submitted.submission_count, submitted.has_evidence) == (
        "under_review",
        1,
        True,
    )
    assert entries("dispute.evidence_submit", dispute)[0].details["submission_count"] == 1

    # Stripe's events arrive afterwards, the older one (the draft's) last: nothing moves.
    updates = deliveries.wait_for("charge.dispute.updated", 2)
    deliveries.feed([updates[1], draft_event[0]])
    dispute.refresh_from_db()
    assert (dispute.status, dispute.submission_count) == ("under_review", 1)
    assert dispute.order.status == OrderStatus.DISPUTED
    handled = WebhookEvent.objects.filter(type="charge.dispute.updated")
    assert {e.status for e in handled} == {WebhookEvent.Status.PROCESSED}


def test_a_double_submission_reaches_stripe_once(open_dispute, stripe_api, finance, deliveries):
    dispute = open_dispute()
    request_uuid = uuid.uuid4()
    submit(dispute, finance, request_uuid)

    with pytest.raises(DisputeNotOpen) as refused:  # the same form, a second click
        submit(dispute, finance, request_uuid)
    record_refusal(refused.value.audit, refused.value.code)  # as the admin view does

    assert (
        stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).evidence_details[
            "submission_count"
        ]
        == 1
    )
    assert [e.outcome for e in entries("dispute.evidence_submit", dispute)] == [
        "success",
        "refused",
    ]
    assert entries("dispute.evidence_submit", dispute)[1].details["code"] == "dispute_not_open"


def test_an_answer_lost_on_the_way_is_repeated_with_the_same_key_and_submits_once(
    open_dispute, stripe_api, emulator, finance, receiver, deliveries
):
    dispute = open_dispute()
    request_uuid = uuid.uuid4()
    emulator.control(
        "POST",
        "/faults",
        {"kind": "500", "count": 1, "when": "after", "path_prefix": "/v1/disputes"},
    )
    with pytest.raises(StripeUnavailable):
        submit(dispute, finance, request_uuid)
    dispute.refresh_from_db()
    assert dispute.status == "needs_response"  # unknown here whether Stripe took it

    submit(dispute, finance, request_uuid)  # the staff member sends the form again

    dispute.refresh_from_db()
    assert (dispute.status, dispute.submission_count) == ("under_review", 1)
    assert (
        stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).evidence_details[
            "submission_count"
        ]
        == 1
    )
    assert len(deliveries.wait_for("charge.dispute.updated")) == 1
    outcomes = [e.outcome for e in entries("dispute.evidence_submit", dispute)]
    assert outcomes == ["failed", "success"]


def test_accepting_charges_the_order_back_and_the_closed_event_changes_nothing_more(
    open_dispute, stripe_api, finance, deliveries, django_capture_on_commit_callbacks
):
    dispute = open_dispute()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):  # the staff alert is sent
        accepted = services.accept_dispute(
            dispute_id=dispute.pk, staff_user=finance, request_uuid=uuid.uuid4()
        )

    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "lost"
    assert (accepted.status, accepted.funds_withdrawn) == ("lost", True)
    dispute.order.refresh_from_db()
    assert dispute.order.status == OrderStatus.CHARGED_BACK
    (entry,) = entries("dispute.accept", dispute)
    assert (entry.actor, entry.outcome, entry.details["status"]) == (finance, "success", "lost")

    closed = deliveries.wait_for("charge.dispute.closed")
    deliveries.feed(closed + closed)  # delivered twice, too
    event = WebhookEvent.objects.get(type="charge.dispute.closed")
    assert event.status == WebhookEvent.Status.PROCESSED
    dispute.order.refresh_from_db()
    assert dispute.order.status == OrderStatus.CHARGED_BACK
    assert len(entries("dispute.closed", dispute)) == 1
    closing_mails = [m for m in mail.outbox if "closed: lost" in m.subject]
    assert len(closing_mails) == 1


def test_a_closed_dispute_refuses_evidence_and_accepting(
    open_dispute, emulator, stripe_api, finance, deliveries
):
    dispute = open_dispute()
    emulator.control("POST", f"/disputes/{dispute.stripe_dispute_id}/resolve", {"outcome": "won"})
    deliveries.feed_until("charge.dispute.funds_reinstated")

    with pytest.raises(DisputeNotOpen, match="won"):
        submit(dispute, finance)
    with pytest.raises(DisputeNotOpen) as refused:
        services.accept_dispute(
            dispute_id=dispute.pk, staff_user=finance, request_uuid=uuid.uuid4()
        )
    assert refused.value.status == 409
    assert refused.value.audit["action"] == "dispute.accept"
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "won"


def test_evidence_past_its_deadline_is_refused_here_accepting_is_not(
    open_dispute, stripe_api, finance
):
    dispute = open_dispute()
    Dispute.objects.filter(pk=dispute.pk).update(
        evidence_due_by=timezone.now() - datetime.timedelta(minutes=1)
    )

    with pytest.raises(EvidenceOverdue) as refused:
        submit(dispute, finance, submit=False)
    record_refusal(refused.value.audit, refused.value.code)

    at_stripe = stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence_details.has_evidence is False  # Stripe was never asked
    (entry,) = entries("dispute.evidence_draft", dispute)
    assert (entry.outcome, entry.details["code"]) == ("refused", "evidence_past_due")
    services.accept_dispute(dispute_id=dispute.pk, staff_user=finance, request_uuid=uuid.uuid4())
    assert stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "lost"


def test_stripe_refusing_a_dispute_that_changed_there_is_reported_and_audited(
    open_dispute, emulator, finance
):
    dispute = open_dispute()
    # The bank decided at Stripe; its event has not reached the shop yet.
    emulator.control("POST", f"/disputes/{dispute.stripe_dispute_id}/resolve", {"outcome": "lost"})

    with pytest.raises(StripeRefused, match="changed at Stripe"):
        submit(dispute, finance)

    dispute.refresh_from_db()
    assert dispute.status == "needs_response"
    (entry,) = entries("dispute.evidence_submit", dispute)
    assert (entry.outcome, entry.details["code"]) == ("failed", "stripe_request_refused")


def test_an_inquiry_is_answered_and_goes_under_review(open_dispute, stripe_api, finance):
    dispute = open_dispute(inquiry=True)
    assert dispute.status == "warning_needs_response"
    answered = submit(dispute, finance)
    assert answered.status == "warning_under_review"
    assert (
        stripe_api.v1.disputes.retrieve(dispute.stripe_dispute_id).status == "warning_under_review"
    )


@pytest.mark.django_db(transaction=True)
def test_stripe_is_never_called_inside_a_database_transaction(open_dispute, finance, monkeypatch):
    dispute = open_dispute()
    seen = []
    real_call = stripe_client.call

    def watching(operation, function):
        seen.append((operation, connection.in_atomic_block))
        return real_call(operation, function)

    monkeypatch.setattr(stripe_client, "call", watching)
    submit(dispute, finance, submit=False)
    submit(dispute, finance)

    assert seen == [("disputes.update", False), ("disputes.update", False)]
    dispute.refresh_from_db()
    assert dispute.status == "under_review"
