"""Money is an integer in minor units plus a lower-case ISO 4217 code. No floats.

"Minor units" are always the units of Stripe's API, and Stripe's currency rules
(https://docs.stripe.com/currencies) decide which integers are valid amounts:

- zero-decimal currencies (JPY, KRW, ...): the amount is whole units;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND): thousandths, but Stripe's payment
  partners need the last digit to be 0, so every amount is a multiple of 10
  (5.124 KWD cannot be charged; 5.120 can);
- ISK and UGX became whole-unit currencies, but Stripe keeps them two-decimal for
  backwards compatibility: 5 ISK is sent as 500 and an amount must be a multiple of 100;
- HUF and TWD are two-decimal for charges and refunds; Stripe treats them as whole units
  only for payouts, which this shop does not make;
- every charge has a minimum (Stripe's table below; elsewhere about USD 0.50).

This module holds only the rules (no Django); `catalog.amounts` turns a broken rule into
the API's `invalid_amount` refusal.
"""

import re
from decimal import Decimal, InvalidOperation

CURRENCY_PATTERN = re.compile(r"^[a-z]{3}$")

# Currencies whose API amount is the whole unit (Stripe's list, without UGX: see below).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
# Stripe's three-decimal currencies: amounts are in thousandths, a multiple of 10.
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# Whole-unit currencies Stripe still takes in hundredths: amounts are a multiple of 100.
WHOLE_UNITS_IN_HUNDREDTHS = frozenset({"isk", "ugx"})

# Smallest charge per currency in minor units. Stripe's published table first; Stripe
# refuses less than about USD 0.50 in any other currency (converted at the day's rate),
# so the three-decimal and whole-unit currencies carry an equivalent with a margin for
# exchange-rate moves, rounded up to a valid amount. Unlisted two-decimal currencies: 50.
MINIMUM_CHARGE = {
    # Stripe's table
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
    # about USD 0.50 or more
    "bhd": 250,
    "jod": 500,
    "kwd": 200,
    "omr": 250,
    "tnd": 2000,
    "isk": 10000,
    "ugx": 250000,
    "bif": 2000,
    "clp": 700,
    "djf": 120,
    "gnf": 6000,
    "kmf": 300,
    "krw": 1000,
    "mga": 3000,
    "pyg": 5000,
    "rwf": 1000,
    "vnd": 20000,
    "vuv": 80,
    "xaf": 400,
    "xof": 400,
    "xpf": 80,
}
DEFAULT_MINIMUM_CHARGE = 50


def decimal_places(currency: str) -> int:
    """Digits after the point in Stripe's amounts (ISK and UGX: 2, always `.00`)."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def amount_step(currency: str) -> int:
    """Every amount in `currency` is a multiple of this."""
    if currency in THREE_DECIMAL_CURRENCIES:
        return 10
    if currency in WHOLE_UNITS_IN_HUNDREDTHS:
        return 100
    return 1


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)


def step_problem(amount: int, currency: str) -> str | None:
    """Why `amount` is not a valid amount in `currency` (None when it is)."""
    step = amount_step(currency)
    if amount % step == 0:
        return None
    code = currency.upper()
    if currency in THREE_DECIMAL_CURRENCIES:
        return f"{code} amounts must end in 0 (multiples of 0.010 {code}), e.g. 1.230, not 1.235."
    return f"{code} amounts must be whole {code} (multiples of 100 in minor units)."


def charge_problem(amount: int, currency: str) -> str | None:
    """Why Stripe would refuse to charge `amount` (None when it would not): the step rule
    and the minimum. The shop's own maximum is checked by the caller."""
    problem = step_problem(amount, currency)
    if problem:
        return problem
    minimum = minimum_charge(currency)
    if amount < minimum:
        return f"The smallest amount that can be charged is {format_amount(minimum, currency)}."
    return None


def minor_units(value: Decimal | str, currency: str) -> int:
    """`Decimal("1.23"), "kwd"` → 1230, exactly; ValueError when `value` has more digits
    than the currency allows or breaks its step (1.235 KWD, 5.50 ISK)."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("Enter a number.") from None
    if not value.is_finite():
        raise ValueError("Enter a number.")
    places = decimal_places(currency)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency.upper()} has {places} decimal places.")
    amount = int(minor)
    problem = step_problem(amount, currency)
    if problem:
        raise ValueError(problem)
    return amount


def format_amount(amount: int, currency: str) -> str:
    """The one way money is shown to people (e-mails, every admin page): `1999, "usd"` →
    `"19.99 USD"`; `500, "jpy"` → `"500 JPY"`; `1230, "kwd"` → `"1.230 KWD"`."""
    places = decimal_places(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**places) if places else (abs(amount), 0)
    text = f"{whole:,}" + (f".{fraction:0{places}d}" if places else "")
    return f"{sign}{text} {currency.upper()}"


def major_units(amount: int, currency: str) -> Decimal:
    """`6100, "usd"` → `Decimal("61.00")`; `500, "jpy"` → `Decimal("500")`; `1230, "kwd"` →
    `Decimal("1.230")`: exact, with the currency's own number of places (exports, forms)."""
    places = decimal_places(currency)
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))
