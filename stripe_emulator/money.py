"""Currencies Stripe accepts and its per-currency rules, in minor units
(docs.stripe.com/currencies), checked wherever an amount enters: a PaymentIntent's amount
(create, update), a capture, a Checkout price and its total, a refund.

- zero-decimal currencies (JPY, KRW, ...): whole units, any integer;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND): thousandths, a multiple of 10;
- ISK and UGX: whole units still sent in hundredths, a multiple of 100;
- HUF and TWD are two-decimal for charges and refunds (their whole-unit rule is for
  payouts, which the emulator does not make);
- a charge is at least the currency's minimum (`amount_too_small`, naming it) and at most
  eight digits, twelve for IDR (`amount_too_large`).
"""

from stripe_emulator.errors import invalid

# ISO 4217 codes Stripe charges in (lower case, as the API uses them).
CURRENCIES = frozenset(
    [
        "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
        "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
        "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
        "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
        "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
        "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
        "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
        "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
        "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
        "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
        "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
    ]
)  # fmt: skip

ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
     "xof", "xpf"]
)  # fmt: skip
# Three-decimal currencies: thousandths, and Stripe's partners need the last digit to be 0.
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
# Whole-unit currencies Stripe still takes in hundredths (backwards compatibility): an
# amount must be a multiple of 100 (5 ISK is 500).
WHOLE_UNITS_IN_HUNDREDTHS = frozenset(["isk", "ugx"])

# Stripe's "Minimum and maximum charge amounts" table; elsewhere Stripe wants about USD 0.50
# at the day's rate, here a fixed equivalent (the shop's catalog.money uses the same table).
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
    "bhd": 250, "jod": 500, "kwd": 200, "omr": 250, "tnd": 2000, "isk": 10000,
    "ugx": 250000, "bif": 2000, "clp": 700, "djf": 120, "gnf": 6000, "kmf": 300,
    "krw": 1000, "mga": 3000, "pyg": 5000, "rwf": 1000, "vnd": 20000, "vuv": 80,
    "xaf": 400, "xof": 400, "xpf": 80,
}  # fmt: skip
DEFAULT_MINIMUM_CHARGE = 50
# Amounts have at most eight digits (99999999: $999,999.99), IDR twelve.
MAXIMUM_CHARGE = 99_999_999
MAXIMUM_CHARGE_BY_CURRENCY = {"idr": 999_999_999_999}


def decimal_places(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def check_currency(currency: str, param: str = "currency") -> str:
    if currency.lower() not in CURRENCIES:
        raise invalid(f"Invalid currency: {currency}.", code="parameter_invalid", param=param)
    return currency.lower()


def check_step(amount: int, currency: str, param: str = "amount") -> None:
    """Stripe's per-currency amount rules, for charges, prices and refunds alike."""
    if currency in THREE_DECIMAL and amount % 10:
        # Stripe documents the rule, not the code it answers with; a 400
        # invalid_request_error on `amount` is what an integration can rely on.
        raise invalid(
            f"Invalid amount. Amounts in {currency.upper()} must be a multiple of 10 (the "
            "last of the three decimal digits must be 0). See "
            "https://stripe.com/docs/currencies#three-decimal for more information.",
            code="parameter_invalid",
            param=param,
        )
    if currency in WHOLE_UNITS_IN_HUNDREDTHS and amount % 100:
        raise invalid(
            f"Invalid amount. Currency {currency.upper()} has become effectively zero-decimal "
            "and charged amounts must be evenly divisible by 100. See "
            "https://stripe.com/docs/currencies#special-cases for more information.",
            code="invalid_charge_amount_no_decimal_compatible",
            param=param,
        )


# The symbol Stripe's messages put before an amount; other currencies show the number only.
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def shown(amount: int, currency: str) -> str:
    """An amount as Stripe's messages show it: `$0.50 usd`, `¥50 jpy`, `0.200 kwd`."""
    places = decimal_places(currency)
    whole, fraction = divmod(amount, 10**places)
    number = f"{whole:,}" + (f".{fraction:0{places}d}" if places else "")
    return f"{SYMBOLS.get(currency, '')}{number} {currency}"


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    """A charge's amount: the currency's step, at least its minimum, at most 99999999."""
    check_step(amount, currency, param)
    minimum = MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)
    if amount < minimum:
        raise invalid(
            f"Amount must be at least {shown(minimum, currency)}",
            code="amount_too_small",
            param=param,
        )
    check_maximum(amount, currency, param)


def check_maximum(amount: int, currency: str, param: str = "amount") -> None:
    maximum = MAXIMUM_CHARGE_BY_CURRENCY.get(currency, MAXIMUM_CHARGE)
    if amount > maximum:
        raise invalid(
            f"Amount must be no more than {shown(maximum, currency)}",
            code="amount_too_large",
            param=param,
        )


def check_session_total(total: int, currency: str) -> None:
    """A Checkout Session's total must reach the currency's minimum charge."""
    minimum = MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)
    if total < minimum:
        raise invalid(
            "The Checkout Session's total amount due must add up to at least "
            f"{shown(minimum, currency)}",
            code="amount_too_small",
            param="line_items",
        )
    check_maximum(total, currency, "line_items")
