"""Staff answering a dispute through Stripe: evidence saved as a draft, evidence submitted,
or the dispute accepted.

Each runs in three steps, as a refund does, so that no lock is held while Stripe is called:
(1) check, on a fresh read, that the dispute still needs a response (and, for evidence,
that its deadline has not passed); (2) call Stripe with the key `dispute-<uuid>` of the
staff member's form, so a double click or a resubmitted form reaches Stripe once;
(3) apply Stripe's answer under the order's lock exactly as its webhook would
(payments.handlers.dispute_outcomes), so the event that follows changes nothing more, and
audit it. Accepting closes the dispute as lost: the order is charged back at once.
"""

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record
from core.errors import ShopError
from payments.disputes import evidence as evidence_fields
from payments.errors import DisputeNotOpen, EvidenceOverdue, StripeRefused
from payments.gateway import client as stripe_client
from payments.handlers.dispute_outcomes import apply_dispute
from payments.locks import lock_order_and_attempt
from payments.models import Dispute, DisputeStatus

# Where a response is still possible (once evidence is submitted, the bank decides).
RESPONDABLE = [DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING_NEEDS_RESPONSE]
# The audit action of each staff response: success, refused or failed.
ACTIONS = {
    "draft": "dispute.evidence_draft",
    "submit": "dispute.evidence_submit",
    "accept": "dispute.accept",
}


def _audit(kind: str, dispute: Dispute, staff_user, **details) -> dict:
    return {
        "action": ACTIONS[kind],
        "actor": staff_user,
        "obj": dispute,
        "order": dispute.order_id,
        "amount": dispute.amount,
        "currency": dispute.currency,
        "details": {"dispute": dispute.stripe_dispute_id, **details},
    }


def is_overdue(dispute: Dispute) -> bool:
    return bool(dispute.evidence_due_by and dispute.evidence_due_by <= timezone.now())


def check_respondable(dispute: Dispute, kind: str, staff_user) -> None:
    """Refuse (DisputeNotOpen, EvidenceOverdue, audited by the caller) a response the
    dispute no longer takes. Accepting stays possible after the evidence deadline."""
    audit = _audit(kind, dispute, staff_user, status=dispute.status)
    if dispute.status not in RESPONDABLE:
        raise DisputeNotOpen(
            f"Dispute {dispute.stripe_dispute_id} is {dispute.get_status_display().lower()}: "
            "it no longer takes a response.",
            audit=audit,
        )
    if kind != "accept" and is_overdue(dispute):
        raise EvidenceOverdue(
            f"The deadline for evidence on dispute {dispute.stripe_dispute_id} "
            f"({dispute.evidence_due_by:%Y-%m-%d %H:%M} UTC) has passed.",
            audit=audit,
        )


def save_evidence(
    *, dispute_id: int, evidence: dict, submit: bool, staff_user, request_uuid
) -> Dispute:
    """Stage the evidence at Stripe (`submit=False`, a draft) or submit it to the bank.

    Every form field is sent: an empty one unsets what Stripe had staged for it.
    """
    kind = "submit" if submit else "draft"
    dispute = Dispute.objects.get(pk=dispute_id)
    check_respondable(dispute, kind, staff_user)
    params = {
        "evidence": {name: evidence.get(name) or "" for name in evidence_fields.NAMES},
        "submit": submit,
    }
    answer = _call(
        kind,
        dispute,
        staff_user,
        lambda c: c.v1.disputes.update(
            dispute.stripe_dispute_id,
            params=params,
            options={"idempotency_key": f"dispute-{request_uuid}"},
        ),
    )
    return _apply_answer(kind, dispute, answer, staff_user, fields=evidence_fields.given(evidence))


def accept_dispute(*, dispute_id: int, staff_user, request_uuid) -> Dispute:
    """Accept the dispute at Stripe (close it): it is lost, the order charged back."""
    dispute = Dispute.objects.get(pk=dispute_id)
    check_respondable(dispute, "accept", staff_user)
    answer = _call(
        "accept",
        dispute,
        staff_user,
        lambda c: c.v1.disputes.close(
            dispute.stripe_dispute_id, options={"idempotency_key": f"dispute-{request_uuid}"}
        ),
    )
    return _apply_answer("accept", dispute, answer, staff_user)


def _call(kind: str, dispute: Dispute, staff_user, function):
    operation = "disputes.close" if kind == "accept" else "disputes.update"
    try:
        return stripe_client.call(operation, function).to_dict(for_json=True)
    except StripeRefused as exc:
        # Stripe knows better: the dispute changed there (answered in its dashboard,
        # decided by the bank) and its event is on the way.
        _record_failure(kind, dispute, staff_user, exc.code, stripe_code=exc.stripe_code)
        raise StripeRefused(
            "Stripe refused this response: the dispute may have changed at Stripe. "
            "Reload the page in a moment to see its current status.",
            stripe_code=exc.stripe_code,
        ) from exc
    except ShopError as exc:
        # Unknown whether Stripe got it: the same form sent again repeats the call with the
        # same key, and Stripe answers it once.
        _record_failure(kind, dispute, staff_user, exc.code)
        raise


def _record_failure(kind: str, dispute: Dispute, staff_user, code: str, **details) -> None:
    audit = _audit(kind, dispute, staff_user, code=code, **details)
    record(**{**audit, "outcome": AuditEntry.Outcome.FAILED})


def _apply_answer(kind: str, dispute: Dispute, answer: dict, staff_user, **details) -> Dispute:
    with transaction.atomic():
        order, attempt = lock_order_and_attempt(dispute.order_id, dispute.attempt_id)
        apply_dispute(order, attempt, answer)
        dispute.refresh_from_db()
        evidence_details = answer.get("evidence_details") or {}
        audit = _audit(
            kind,
            dispute,
            staff_user,
            status=answer.get("status"),
            submission_count=evidence_details.get("submission_count"),
            **details,
        )
        record(**audit)
    return dispute
