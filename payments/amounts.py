"""What Stripe will charge: its currency rules and minimums (`catalog.money`), our maximum.

Payments call `check_chargeable` before every Stripe request that charges, so an amount
Stripe would refuse never reaches it: 400 `invalid_amount` / `amount_too_large`.
"""

from catalog.amounts import AmountTooLarge, InvalidAmount, check_amount, check_chargeable
from catalog.money import MINIMUM_CHARGE, minimum_charge

__all__ = [
    "MINIMUM_CHARGE",
    "AmountTooLarge",
    "InvalidAmount",
    "check_amount",
    "check_chargeable",
    "minimum_charge",
]
