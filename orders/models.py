import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from catalog.models import Product

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


def new_order_number() -> str:
    return "ORD-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


class Cart(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart"
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="Set by the first line; one currency per cart."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Cart of {self.user}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(settings.LINE_MAX_QUANTITY)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_line_product_unique"),
        ]

    def __str__(self):
        return f"{self.quantity} x product {self.product_id}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    FULFILLED = "fulfilled", "Fulfilled"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"
    CHARGED_BACK = "charged_back", "Charged back"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    NEEDS_REVIEW = "needs_review", "Needs review"


S = OrderStatus
# States in which money has been taken and may be refunded or disputed.
SETTLED = [S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED]


class FulfilmentStatus(models.TextChoices):
    """Whether the goods went out: a fact about the goods, apart from the money (`status`).

    Refunds and disputes never change it. `partially_fulfilled` is for shipping an order in
    parts; nothing sets it yet.
    """

    UNFULFILLED = "unfulfilled", "Unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
    FULFILLED = "fulfilled", "Fulfilled"


F = FulfilmentStatus
# Where staff may mark the goods shipped: money was taken and is still held. A partial
# refund does not undo shipping, and shipping during a dispute is what the evidence shows.
FULFILLABLE = [S.PAID, S.PARTIALLY_REFUNDED, S.DISPUTED]


class Order(FSMModelMixin, models.Model):
    """An order: lines frozen from the catalog, totals in minor units, one currency.

    The status only moves through the transitions below (django-fsm, protected): nothing
    assigns it directly.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(max_length=16, unique=True, default=new_order_number)
    email = models.EmailField(help_text="Where receipts go; copied from the account.")
    status = FSMField(
        choices=OrderStatus.choices, default=S.PENDING_PAYMENT, protected=True, db_index=True
    )
    fulfilment_status = FSMField(
        choices=FulfilmentStatus.choices, default=F.UNFULFILLED, protected=True, max_length=32
    )
    status_before_dispute = models.CharField(max_length=32, blank=True, choices=OrderStatus.choices)
    currency = models.CharField(max_length=3)
    subtotal = models.PositiveBigIntegerField()
    total = models.PositiveBigIntegerField()
    amount_refunded = models.PositiveBigIntegerField(default=0)
    reserved_until = models.DateTimeField()
    stock_released = models.BooleanField(
        default=False, help_text="Reserved units went back to the shelf (cancel or expiry)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_recent"),
            # cleanup: unpaid orders past their reservation, oldest first
            models.Index(
                fields=["reserved_until", "id"],
                condition=models.Q(status="pending_payment"),
                name="order_pending_reservation",
            ),
        ]
        permissions = [
            ("refund_order", "Can refund an order"),
            ("fulfil_order", "Can mark an order fulfilled"),
            ("export_order", "Can export orders as CSV"),
        ]

    def __str__(self):
        return self.number

    def quantities(self) -> dict[int, int]:
        return {line.product_id: line.quantity for line in self.lines.all()}

    def can_be_fulfilled(self) -> bool:
        return self.status in FULFILLABLE and self.fulfilment_status != F.FULFILLED

    def _settled_status(self) -> str:
        """With nothing refunded: fulfilled when the goods went out, paid otherwise."""
        return S.FULFILLED if self.fulfilment_status == F.FULFILLED else S.PAID

    # --- transitions ---------------------------------------------------------------
    @transition(field=status, source=S.PENDING_PAYMENT, target=S.PAID)
    def mark_paid(self):
        pass

    @transition(field=status, source=S.PAID, target=S.FULFILLED)
    def mark_fulfilled(self):
        pass

    @transition(
        field=fulfilment_status, source=[F.UNFULFILLED, F.PARTIALLY_FULFILLED], target=F.FULFILLED
    )
    def fulfil(self):
        pass

    @transition(field=status, source=S.PENDING_PAYMENT, target=S.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=S.PENDING_PAYMENT, target=S.EXPIRED)
    def expire(self):
        pass

    @transition(
        field=status,
        source=[*SETTLED, S.REFUNDED],
        target=RETURN_VALUE(S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED),
    )
    def apply_refunded_amount(self, amount_refunded: int):
        """Set the refunded total (the sum of succeeded refunds) and the status it means."""
        self.amount_refunded = amount_refunded
        if amount_refunded >= self.total:
            return S.REFUNDED
        if amount_refunded > 0:
            return S.PARTIALLY_REFUNDED
        # Every refund failed: back to settled, "fulfilled" when the goods went out.
        return self._settled_status()

    @transition(field=status, source=[*SETTLED, S.REFUNDED], target=S.DISPUTED)
    def open_dispute(self):
        self.status_before_dispute = self.status

    @transition(field=status, source=S.DISPUTED, target=RETURN_VALUE(*SETTLED, S.REFUNDED))
    def win_dispute(self):
        """Back to where the order was, counting refunds that settled during the dispute and
        goods shipped during it."""
        self.status_before_dispute = ""
        if self.amount_refunded >= self.total:
            return S.REFUNDED
        if self.amount_refunded > 0:
            return S.PARTIALLY_REFUNDED
        return self._settled_status()

    @transition(field=status, source=S.DISPUTED, target=S.CHARGED_BACK)
    def lose_dispute(self):
        self.status_before_dispute = ""

    @transition(field=status, source="*", target=S.NEEDS_REVIEW)
    def flag_for_review(self):
        pass


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_amount = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"
