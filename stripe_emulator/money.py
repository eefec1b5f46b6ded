"""Currencies Stripe accepts and its per-currency charge limits, in minor units."""

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

# Stripe's "Minimum and maximum charge amounts" table (the shop uses the same one).
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
DEFAULT_MINIMUM_CHARGE = 50
MAXIMUM_CHARGE = 99_999_999


def check_currency(currency: str, param: str = "currency") -> str:
    if currency.lower() not in CURRENCIES:
        raise invalid(f"Invalid currency: {currency}.", code="parameter_invalid", param=param)
    return currency.lower()


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    minimum = MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)
    if amount < minimum:
        raise invalid(
            f"Amount must be at least {minimum} {currency} (in minor units).",
            code="amount_too_small",
            param=param,
        )
    if amount > MAXIMUM_CHARGE:
        raise invalid(
            f"Amount must be no more than {MAXIMUM_CHARGE} (in minor units).",
            code="amount_too_large",
            param=param,
        )
