from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from orders.models import Order


class AttemptStatus(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment", "Requires payment"
    REQUIRES_ACTION = "requires_action", "Requires action"
    PROCESSING = "processing", "Processing"
    AUTHORIZED = "authorized", "Authorized"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


A = AttemptStatus
# A failed attempt stays usable: Stripe puts its PaymentIntent back to
# requires_payment_method and the shopper may try another card on it.
OPEN = [A.REQUIRES_PAYMENT, A.REQUIRES_ACTION, A.FAILED]
IN_FLIGHT = [A.PROCESSING, A.AUTHORIZED]
FINAL = [A.SUCCEEDED, A.CANCELED]
# Transitions only move forward: no source list below contains a later stage than its target,
# so an older event can never undo a newer state.


class PaymentAttempt(FSMModelMixin, models.Model):
    """One try at paying an order: a Checkout Session or a PaymentIntent at Stripe."""

    class Kind(models.TextChoices):
        CHECKOUT_SESSION = "checkout_session", "Checkout Session"
        PAYMENT_INTENT = "payment_intent", "PaymentIntent"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payment_attempts")
    number = models.PositiveIntegerField(help_text="1, 2, ... within the order.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = FSMField(
        choices=AttemptStatus.choices, default=A.REQUIRES_PAYMENT, protected=True, db_index=True
    )
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_checkout_session_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True
    )
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    checkout_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Fixed when the attempt is made, so retries send it again."
    )
    amount_received = models.PositiveBigIntegerField(default=0)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(
        max_length=500, blank=True, help_text="Stripe's shopper-safe message."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="attempt_number_per_order"),
            # At most one attempt of an order can succeed.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="succeeded"),
                name="one_succeeded_attempt_per_order",
            ),
        ]

    def __str__(self):
        return f"{self.order} attempt {self.number} ({self.kind})"

    @property
    def stripe_idempotency_key(self) -> str:
        return f"order-{self.order_id}-attempt-{self.number}"

    @property
    def stripe_id(self) -> str:
        return self.stripe_checkout_session_id or self.stripe_payment_intent_id or ""

    @property
    def created_at_stripe(self) -> bool:
        """False while the Stripe object is not known yet (its creation failed or runs)."""
        if self.kind == self.Kind.CHECKOUT_SESSION:
            return bool(self.stripe_checkout_session_id)
        return bool(self.stripe_payment_intent_id)

    # --- transitions -------------------------------------------------------------------
    @transition(field=status, source=[*OPEN], target=A.REQUIRES_ACTION)
    def require_action(self):
        pass

    @transition(field=status, source=[*OPEN, A.PROCESSING], target=A.PROCESSING)
    def mark_processing(self):
        pass

    @transition(field=status, source=[*OPEN, *IN_FLIGHT], target=A.AUTHORIZED)
    def mark_authorized(self):
        pass

    @transition(field=status, source=[*OPEN, *IN_FLIGHT], target=A.SUCCEEDED)
    def mark_succeeded(self, amount_received: int):
        self.amount_received = amount_received
        self.failure_code = self.failure_message = ""

    @transition(field=status, source=[*OPEN, *IN_FLIGHT], target=A.FAILED)
    def mark_failed(self, code: str, message: str):
        self.failure_code = code[:64]
        self.failure_message = message[:500]

    @transition(field=status, source=[*OPEN, *IN_FLIGHT], target=A.CANCELED)
    def cancel(self):
        pass
