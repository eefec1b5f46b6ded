"""Payment refusals, each with the status and code clients rely on."""

from core.errors import Conflict, RateLimited, ServiceUnavailable, ShopError


class CardDeclined(ShopError):
    status = 402
    code = "card_declined"
    message = "Your card was declined."

    def __init__(self, message=None, *, decline_code: str = "card_declined", **kwargs):
        super().__init__(message, **kwargs)
        self.decline_code = decline_code


class StripeUnavailable(ServiceUnavailable):
    code = "stripe_unavailable"
    message = "The payment provider cannot be reached right now. Try again shortly."
    retry_after = 30


class StripeRefused(ShopError):
    status = 502
    code = "stripe_request_refused"
    message = "The payment provider refused the request."

    def __init__(self, message=None, *, stripe_code: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.stripe_code = stripe_code


class StripeMisconfigured(ShopError):
    """Our key is missing, revoked or lacks a permission: an operator must act."""

    status = 500
    code = "server_error"
    message = "Internal server error."


class StripeNotConfigured(ServiceUnavailable):
    """No Stripe secret key: nothing reaches Stripe until an operator sets one.

    Shoppers get 503 `payments_not_configured`; `detail` tells the operator which variable
    to set and how (commands print it, the log line carries it).
    """

    code = "payments_not_configured"
    message = "Payments are not set up on this server yet. Try again later."
    retry_after = 300

    def __init__(self, detail: str, **kwargs):
        super().__init__(**kwargs)
        self.detail = detail


class PaymentsDisabled(ServiceUnavailable):
    code = "payments_disabled"
    message = "Payments are switched off for the moment. Try again later."
    retry_after = 300


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = "This order cannot be paid in its current state."


class ReservationExpired(Conflict):
    code = "reservation_expired"
    message = "The reservation for this order has expired. Place the order again."


class PaymentInProgress(Conflict):
    code = "payment_in_progress"
    message = "A payment for this order is being processed and cannot be stopped."


class TooManyFailedPayments(RateLimited):
    code = "too_many_failed_payments"
    message = "Too many failed payment attempts. Try again later."
    retry_after = 3600


class NotRefundable(Conflict):
    code = "not_refundable"
    message = "This order has no payment that can be refunded."


class OverRefund(Conflict):
    code = "amount_exceeds_refundable"
    message = "The amount is more than what can still be refunded."


class DuplicateSubmission(Conflict):
    code = "duplicate_submission"
    message = "This refund was already submitted."


class DisputeNotOpen(Conflict):
    code = "dispute_not_open"
    message = "This dispute no longer needs a response."


class EvidenceOverdue(Conflict):
    code = "evidence_past_due"
    message = "The deadline for evidence on this dispute has passed."
