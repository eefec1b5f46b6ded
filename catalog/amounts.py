"""Refusing amounts before anything is reserved or sent to Stripe.

The rules are in `catalog.money`; here they become the API's refusals: 400
`invalid_amount` for an amount Stripe would refuse (a three-decimal amount whose last digit
is not 0, a fractional ISK/UGX amount, a charge below the currency's minimum) and 400
`amount_too_large` above `PAYMENT_MAX_AMOUNT`, the largest total this shop charges online.
"""

from django.conf import settings

from catalog.money import charge_problem, step_problem
from core.errors import InvalidInput


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    message = "This amount cannot be charged in this currency."


class AmountTooLarge(InvalidInput):
    code = "amount_too_large"
    message = "The order total is above the largest amount this shop charges online."


def check_amount(amount: int, currency: str, *, field: str = "amount", audit=None) -> None:
    """Refuse an amount that breaks the currency's step rule (catalog, orders, refunds)."""
    problem = step_problem(amount, currency)
    if problem:
        raise InvalidAmount(problem, fields={field: [problem]}, audit=audit)


def check_order_total(total: int, currency: str, *, audit=None) -> None:
    """At order time: a valid amount, and no more than the shop charges online."""
    check_amount(total, currency, field="total", audit=audit)
    if total > settings.PAYMENT_MAX_AMOUNT:
        raise AmountTooLarge(audit=audit)


def check_chargeable(amount: int, currency: str, *, audit=None) -> None:
    """Before any Stripe call that charges: Stripe's rules, its minimum, our maximum."""
    problem = charge_problem(amount, currency)
    if problem:
        raise InvalidAmount(problem, audit=audit)
    if amount > settings.PAYMENT_MAX_AMOUNT:
        raise AmountTooLarge(audit=audit)
