"""Full templates of the objects the emulator makes, one per Stripe object type.

Each template has every field Stripe's API sends for that type at the SDK's pinned API
version, with Stripe's default for it: null for the nullable ones that are unset, the
empty value or the documented default otherwise. Fields Stripe leaves out unless they
apply (a refund's `failure_reason`, a session's `line_items`) are not in the templates.
`build` starts from a deep copy of the template and refuses a field the template does
not have, so every object of a type has the same shape wherever it is made. The test
suite checks the shapes against the SDK (tests/stripe_emulator/conformance.py).
"""

import copy

from stripe_emulator.objects.checkout import CHECKOUT_SESSION, ITEM, PRICE
from stripe_emulator.objects.money import BALANCE_TRANSACTION, DISPUTE, REFUND
from stripe_emulator.objects.payments import (  # noqa: F401 (billing_details: for builders)
    CHARGE,
    CHARGE_CARD,
    CHARGE_OUTCOME,
    PAYMENT_INTENT,
    PAYMENT_METHOD,
    billing_details,
)

TEMPLATES = {
    "balance_transaction": BALANCE_TRANSACTION,
    "charge": CHARGE,
    "checkout.session": CHECKOUT_SESSION,
    "dispute": DISPUTE,
    "item": ITEM,
    "payment_intent": PAYMENT_INTENT,
    "payment_method": PAYMENT_METHOD,
    "price": PRICE,
    "refund": REFUND,
}

# Fields a template leaves out that an object of the type may carry when they apply.
OPTIONAL = {
    "refund": {"failure_reason", "failure_balance_transaction", "next_action", "description"},
    "payment_method": {"card", "us_bank_account", "sepa_debit"},
}


def build(object_type: str, **fields) -> dict:
    """A new `object_type` object: the template with `fields` set."""
    template = TEMPLATES[object_type]
    unknown = set(fields) - set(template) - OPTIONAL.get(object_type, set())
    if unknown:
        raise KeyError(f"{object_type} has no field {', '.join(sorted(unknown))}")
    obj = copy.deepcopy(template)
    obj.update(fields)
    return obj


def charge_outcome(**fields) -> dict:
    """A charge's `outcome` with every field, null unless given."""
    return {**copy.deepcopy(CHARGE_OUTCOME), **fields}


def charge_payment_method_details(details: dict, amount: int, fingerprint: str) -> dict:
    """A charge's `payment_method_details`: a card's gets every field Stripe sends for it."""
    if details.get("type") != "card":
        return details
    card = {**copy.deepcopy(CHARGE_CARD), **details["card"]}
    card.update(amount_authorized=amount, fingerprint=fingerprint, network=card["brand"])
    card["overcapture"]["maximum_amount_capturable"] = amount
    return {**details, "card": card}


def customer_details(**fields) -> dict:
    """A Checkout Session's `customer_details`, null (none, no tax ids) unless given."""
    return {
        "address": None,
        "business_name": None,
        "email": None,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
        **fields,
    }


# What Stripe shows in a PaymentIntent's `payment_method_options` for each type it allows.
_METHOD_OPTIONS = {
    "card": {
        "installments": None,
        "mandate_options": None,
        "network": None,
        "request_three_d_secure": "automatic",
    },
    "us_bank_account": {"verification_method": "automatic"},
}


def payment_method_options(types: list[str]) -> dict:
    """A PaymentIntent's `payment_method_options`: the defaults of each allowed type."""
    return {kind: copy.deepcopy(_METHOD_OPTIONS[kind]) for kind in types if kind in _METHOD_OPTIONS}
