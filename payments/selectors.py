from payments.models import PaymentAttempt


def latest_attempt(order) -> PaymentAttempt | None:
    return PaymentAttempt.objects.filter(order=order).order_by("-number").first()


def payment_summary(order) -> dict | None:
    attempt = latest_attempt(order)
    if attempt is None:
        return None
    return {
        "status": attempt.status,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "amount_refunded": attempt.amount_refunded,
        "failure_message": attempt.failure_message,
    }
