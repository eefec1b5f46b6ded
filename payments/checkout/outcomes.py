"""What the webhook handlers record on a payment attempt, with the order and the attempt
locked, inside their transaction (the decline it counts is payments.checkout.declines)."""

from audit.services import record
from core import rows
from payments.models import PaymentAttempt


def record_payment_failure(attempt: PaymentAttempt, *, code: str, message: str) -> None:
    """Inside the caller's transaction, with the order and the attempt locked."""
    attempt.mark_failed(code, message)
    rows.save_fields(attempt, ["status", "failure_code", "failure_message"])
    record(
        "payment.failed",
        actor_label="stripe",
        obj=attempt,
        order=attempt.order_id,
        amount=attempt.amount,
        currency=attempt.currency,
        details={"code": code, "kind": attempt.kind},
    )
