from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

from catalog.money import (
    CURRENCY_PATTERN,
    THREE_DECIMAL_CURRENCIES,
    WHOLE_UNITS_IN_HUNDREDTHS,
    step_problem,
)

# Keeps line totals (x 1000 units x 100 lines) far inside a 64-bit integer.
MAX_UNIT_AMOUNT = 99_999_999


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit_amount = models.PositiveBigIntegerField(
        help_text="Price in minor units of the currency (cents; yen for JPY).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_UNIT_AMOUNT)],
    )
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(CURRENCY_PATTERN, "A lower-case ISO 4217 code, e.g. usd.")],
    )
    stock = models.PositiveIntegerField(default=0, help_text="Units free to be ordered.")
    reserved = models.PositiveIntegerField(
        default=0, help_text="Units held by orders waiting for payment."
    )
    sold = models.PositiveIntegerField(default=0, help_text="Units in paid orders.")
    active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_amount__gte=1), name="product_unit_amount_positive"
            ),
            # Stripe's step rules (catalog.money), kept by the database too, so no import,
            # script or bulk update can price a product Stripe would refuse to charge.
            models.CheckConstraint(
                condition=~models.Q(currency__in=sorted(THREE_DECIMAL_CURRENCIES))
                | models.Q(Exact(Mod("unit_amount", 10), 0)),
                name="product_unit_amount_three_decimal_step",
            ),
            models.CheckConstraint(
                condition=~models.Q(currency__in=sorted(WHOLE_UNITS_IN_HUNDREDTHS))
                | models.Q(Exact(Mod("unit_amount", 100), 0)),
                name="product_unit_amount_whole_units_step",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def clean(self):
        super().clean()
        if self.unit_amount and self.currency:
            problem = step_problem(self.unit_amount, self.currency)
            if problem:
                raise ValidationError(
                    {"unit_amount": ValidationError(problem, code="invalid_amount")}
                )
