from django.db import models
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, can_proceed, transition

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
    client_address = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Client address of the request that made the attempt (decline limits).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        # The back office's date range and dashboard read attempts by creation time.
        indexes = [models.Index(fields=["created_at"], name="attempt_created")]
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

    # Stripe's word that money moved wins over a local cancel made at the same moment (a
    # session we expired while the shopper was paying): the money must be accounted for.
    @transition(field=status, source=[*OPEN, *IN_FLIGHT, A.CANCELED], target=A.SUCCEEDED)
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


class PaymentDecline(models.Model):
    """One failed payment as Stripe reported it, counted by the decline limits.

    One row per Stripe failure event (its id is unique here), whichever way the card was
    confirmed: our API, Stripe.js with the client secret, or Checkout. A PaymentIntent can
    fail many times while it stays confirmable, so each failure event is its own row.
    Keyed by shopper, by the client address that made the attempt and by the card's
    fingerprint (when Stripe sends one); see payments.checkout.declines.
    """

    stripe_event_id = models.CharField(max_length=255, unique=True)
    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="declines")
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_address = models.CharField(max_length=64, blank=True)
    card_fingerprint = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=64, blank=True)
    declined_at = models.DateTimeField(help_text="When Stripe says it happened (event time).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-declined_at", "-id"]
        indexes = [
            models.Index(fields=["user", "declined_at"], name="decline_user_time"),
            models.Index(fields=["client_address", "declined_at"], name="decline_address_time"),
            models.Index(fields=["card_fingerprint", "declined_at"], name="decline_card_time"),
        ]

    def __str__(self):
        return f"{self.code or 'decline'} on {self.attempt} ({self.stripe_event_id})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


R = RefundStatus


class Refund(FSMModelMixin, models.Model):
    """A refund at Stripe. Created first here by staff (issue: back office) or learned from
    Stripe's events; the order's refunded total is the sum of the succeeded ones.

    Its status only moves up Stripe's ladder, pending → requires_action → succeeded →
    failed or canceled (a succeeded refund can still fail at Stripe), and may skip rungs:
    an older event, arriving late, can never move it down.
    """

    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    idempotency_uuid = models.UUIDField(
        null=True, blank=True, unique=True, help_text="For refunds we create: refund-<uuid>."
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = FSMField(
        max_length=32,
        choices=RefundStatus.choices,
        default=R.PENDING,
        protected=True,
        db_index=True,
    )
    reason = models.CharField(max_length=500, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The back office's dashboard, date range and refund list read recent refunds.
        indexes = [models.Index(fields=["created_at"], name="refund_created")]
        permissions = [("export_refund", "Can export refunds as CSV")]

    def __str__(self):
        return self.stripe_refund_id or f"refund {self.pk} (not at Stripe yet)"

    # --- transitions -------------------------------------------------------------------
    @transition(field=status, source=R.PENDING, target=R.REQUIRES_ACTION)
    def require_action(self):
        pass

    @transition(field=status, source=[R.PENDING, R.REQUIRES_ACTION], target=R.SUCCEEDED)
    def mark_succeeded(self):
        pass

    @transition(field=status, source=[R.PENDING, R.REQUIRES_ACTION, R.SUCCEEDED], target=R.FAILED)
    def mark_failed(self):
        pass

    @transition(field=status, source=[R.PENDING, R.REQUIRES_ACTION, R.SUCCEEDED], target=R.CANCELED)
    def cancel(self):
        pass

    def transition_to(self, status: str):
        """The transition that moves this refund to Stripe's `status`, or None when the
        refund is there already or further up the ladder (old news)."""
        name = REFUND_TRANSITION_TO.get(status)
        method = getattr(self, name) if name else None
        return method if method is not None and can_proceed(method) else None


# The transition into each status a refund can move to.
REFUND_TRANSITION_TO = {
    R.REQUIRES_ACTION: "require_action",
    R.SUCCEEDED: "mark_succeeded",
    R.FAILED: "mark_failed",
    R.CANCELED: "cancel",
}


class DisputeStatus(models.TextChoices):
    WARNING_NEEDS_RESPONSE = "warning_needs_response", "Warning: needs response"
    WARNING_UNDER_REVIEW = "warning_under_review", "Warning: under review"
    WARNING_CLOSED = "warning_closed", "Warning: closed"
    NEEDS_RESPONSE = "needs_response", "Needs response"
    UNDER_REVIEW = "under_review", "Under review"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    PREVENTED = "prevented", "Prevented"


D = DisputeStatus
DISPUTE_OPEN = [
    D.WARNING_NEEDS_RESPONSE,
    D.WARNING_UNDER_REVIEW,
    D.NEEDS_RESPONSE,
    D.UNDER_REVIEW,
]
DISPUTE_CLOSED = [D.WON, D.LOST, D.WARNING_CLOSED, D.PREVENTED]


class Dispute(FSMModelMixin, models.Model):
    """A dispute (or an inquiry, warning_*) on one of our payments, as Stripe reports it.

    It is created in the status of the first event we hear of it, whichever that is. While
    open it follows Stripe between the open statuses in any order (events about one
    dispute arrive out of order); closing is final: nothing arriving late reopens it.
    """

    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="disputes")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = FSMField(max_length=32, choices=DisputeStatus.choices, protected=True, db_index=True)
    reason = models.CharField(max_length=64, blank=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True, db_index=True)
    # Stripe's evidence_details: evidence staged, and how often it was submitted.
    has_evidence = models.BooleanField(default=False)
    submission_count = models.PositiveIntegerField(default=0)
    funds_withdrawn = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["evidence_due_by", "id"]
        indexes = [models.Index(fields=["created_at"], name="dispute_created")]
        permissions = [
            ("respond_dispute", "Can respond to disputes (evidence, accept)"),
            ("export_dispute", "Can export disputes as CSV"),
        ]

    def __str__(self):
        return self.stripe_dispute_id

    @property
    def is_closed(self) -> bool:
        return self.status in DISPUTE_CLOSED

    # --- transitions -------------------------------------------------------------------
    @transition(field=status, source=DISPUTE_OPEN, target=RETURN_VALUE(*DISPUTE_OPEN))
    def follow(self, status: str) -> str:
        """Stripe reports another open status (or the same one again)."""
        return status

    @transition(field=status, source=DISPUTE_OPEN, target=RETURN_VALUE(*DISPUTE_CLOSED))
    def close(self, status: str) -> str:
        """Stripe decided it (won, lost) or it ended (warning_closed, prevented)."""
        return status


class WebhookEvent(models.Model):
    """The inbox: one row per Stripe event, stored before anything is done with it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook delivery"
        EVENTS_API = "events_api", "Events API (undelivered, fetched by reconciliation)"
        RECONCILIATION = "reconciliation", "Reconciliation (Stripe object fetched and applied)"

    stripe_event_id = models.CharField(
        max_length=255,
        unique=True,
        help_text="Stripe's event id; reconciliation:<type>:<object>:<state> for a fix.",
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEBHOOK)
    type = models.CharField(max_length=128, db_index=True)
    livemode = models.BooleanField(default=False)
    api_version = models.CharField(max_length=64, blank=True)
    stripe_created = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    # What the event is about, for finding it again (admin, waiting events).
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhook_status_received"),
        ]
        permissions = [("replay_webhookevent", "Can replay webhook events")]

    def __str__(self):
        return f"{self.stripe_event_id} {self.type} ({self.status})"

    @property
    def data_object(self) -> dict:
        return self.payload.get("data", {}).get("object", {})


class ReconciliationMismatch(models.Model):
    """A difference between our books and Stripe's, found by `reconcile`.

    Open while `resolved_at` is empty; a later run that no longer sees the difference, or a
    fix, resolves it. At most one open row per (kind, subject), so repeated runs update it.
    """

    class Kind(models.TextChoices):
        PAID_AT_STRIPE = "paid_at_stripe", "Paid at Stripe, not here"
        PAID_HERE_ONLY = "paid_here_only", "Paid here, not at Stripe"
        PAYMENT_STATE = "payment_state", "Payment state differs"
        AMOUNT = "amount", "Amount or currency differs"
        REFUND = "refund", "Refund differs"
        REFUND_UNSENT = "refund_unsent", "Refund never reached Stripe"
        STUCK_PENDING = "stuck_pending", "Unpaid past its reservation"
        UNDELIVERED_EVENT = "undelivered_event", "Stripe event never delivered"

    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    subject = models.CharField(
        max_length=255, help_text="What differs: a Stripe id, or order-<id> for local-only state."
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="mismatches"
    )
    attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    local_state = models.CharField(max_length=255, blank=True)
    stripe_state = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution = models.CharField(max_length=255, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_mismatch_per_subject",
            ),
        ]
        permissions = [("fix_reconciliationmismatch", "Can fix reconciliation mismatches")]
        verbose_name_plural = "reconciliation mismatches"

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class StripeCustomer(models.Model):
    """A shopper's customer at Stripe, created once (idempotency key customer-<user id>)."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.PROTECT, related_name="stripe_customer"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.stripe_customer_id
