"""One mismatch, from the admin: look at its subject again and apply Stripe's truth, or
close it for good once a person dealt with it."""

from django.db import transaction
from django.utils import timezone

from audit.services import record
from payments.locks import lock_mismatch
from payments.models import ReconciliationMismatch
from payments.reconciliation.reads import fetch
from payments.reconciliation.run import Report, Scope, run

Kind = ReconciliationMismatch.Kind


def fix_mismatch(mismatch: ReconciliationMismatch, *, staff_user) -> Report:
    """Look at one mismatch's subject again and apply Stripe's truth to it."""
    if mismatch.kind == Kind.UNDELIVERED_EVENT:
        event = fetch("events.retrieve", lambda c: c.v1.events.retrieve(mismatch.subject))
        scope = Scope(attempts=[], orders=[], events=[event])
    elif mismatch.kind == Kind.STUCK_PENDING:
        scope = Scope(attempts=[], orders=[mismatch.order], events=[])
    else:
        scope = Scope(attempts=[mismatch.attempt], orders=[], events=[])
    report = run(fix=True, actor=staff_user, scope=scope)
    mismatch.refresh_from_db()
    return report


def acknowledge(mismatch: ReconciliationMismatch, *, staff_user, note: str) -> None:
    """A person dealt with it (refunded, contacted the shopper...): close it for good."""
    with transaction.atomic():
        row = lock_mismatch(mismatch.pk)
        if row.resolved_at is not None:
            return
        row.resolved_at = timezone.now()
        row.resolved_by = staff_user
        row.resolution = f"acknowledged: {note}"[:255]
        row.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        record(
            "reconciliation.acknowledged",
            actor=staff_user,
            obj=row,
            order=row.order_id,
            details={"kind": row.kind, "subject": row.subject, "note": note[:255]},
        )
