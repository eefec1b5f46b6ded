"""What Stripe will charge: per-currency minimums (Stripe's published table), our maximum."""

from django.conf import settings

from payments.errors import AmountOutOfRange

# Minimum charge per currency in minor units (Stripe: "Minimum and maximum charge amounts").
MINIMUM_CHARGE = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}
DEFAULT_MINIMUM_CHARGE = 50


def check_chargeable(amount: int, currency: str) -> None:
    minimum = MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)
    if amount < minimum:
        raise AmountOutOfRange(
            f"The order total is below the smallest amount that can be charged in "
            f"{currency.upper()}.",
            code="amount_too_small",
        )
    if amount > settings.PAYMENT_MAX_AMOUNT:
        raise AmountOutOfRange(
            "The order total is above the largest amount this shop charges online.",
            code="amount_too_large",
        )
