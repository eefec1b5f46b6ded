"""Stripe's test payment methods, card numbers, tokens and bank accounts, and what each does.

The ids are Stripe's own (docs.stripe.com/testing), so code written against the emulator
works against Stripe's test mode unchanged. The table is in `table.py`; `reference.py`
makes the docs table and the `--help` text from it. Cards are reached by their
PaymentMethod id (`pm_card_visa`), their token (`tok_visa`, as `card[token]` when
creating a PaymentMethod) or, on the hosted Checkout page, their number; bank debits by
their id or their account number / IBAN (`payment_method_data`).
"""

import datetime
import hashlib

from stripe_emulator import objects
from stripe_emulator.cards.model import BANK_FAILURES, Decline, Outcome, TestPaymentMethod
from stripe_emulator.cards.table import PAYMENT_METHODS, SECTIONS
from stripe_emulator.errors import missing_resource
from stripe_emulator.state import now

__all__ = [
    "BANK_FAILURES",
    "BY_CHOICE",
    "BY_ID",
    "BY_NUMBER",
    "BY_TOKEN",
    "PAYMENT_METHODS",
    "SECTIONS",
    "Decline",
    "Outcome",
    "TestPaymentMethod",
    "as_object",
    "details",
    "payment_method",
]

BY_ID = {pm_id: pm for pm in PAYMENT_METHODS for pm_id in pm.ids}
BY_TOKEN = {token: pm for pm in PAYMENT_METHODS for token in pm.tokens}
# (kind, card number / account number / IBAN) → the Stripe row (not an emulator-only one).
BY_NUMBER = {(pm.kind, pm.number): pm for pm in reversed(PAYMENT_METHODS) if not pm.emulator_only}
# The hosted page's choices: a card's number, or a bank debit's id.
BY_CHOICE = {
    (pm.number if pm.kind == "card" else pm.id): pm
    for pm in PAYMENT_METHODS
    if not pm.emulator_only
}


def payment_method(payment_method_id: str, param: str = "payment_method") -> TestPaymentMethod:
    try:
        return BY_ID[payment_method_id]
    except KeyError:
        raise missing_resource("PaymentMethod", payment_method_id, param) from None


def fingerprint(pm: TestPaymentMethod) -> str:
    """The same card (or account) has the same fingerprint, whichever id or token named it."""
    return hashlib.sha256(f"{pm.kind}:{pm.number}".encode()).hexdigest()[:16]


# The test payment methods exist as long as the emulator runs, like Stripe's own; their
# cards expire a year from then, as Stripe's test cards do.
_CREATED = now()
_EXPIRES = datetime.datetime.fromtimestamp(_CREATED, datetime.UTC)


def details(pm: TestPaymentMethod) -> dict:
    """`charge.payment_method_details` for this payment method."""
    if pm.kind == "card":
        return {
            "type": "card",
            "card": {
                "brand": pm.brand,
                "country": pm.country,
                "exp_month": _EXPIRES.month,
                "exp_year": _EXPIRES.year + 1,
                "fingerprint": fingerprint(pm),
                "funding": pm.funding,
                "last4": pm.last4,
                "network": pm.brand,
            },
        }
    if pm.kind == "sepa_debit":
        return {
            "type": pm.kind,
            pm.kind: {
                "bank_code": pm.number[4:12],
                "branch_code": "",
                "country": pm.country,
                "fingerprint": fingerprint(pm),
                "last4": pm.last4,
            },
        }
    return {
        "type": pm.kind,
        pm.kind: {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": "STRIPE TEST BANK",
            "fingerprint": fingerprint(pm),
            "last4": pm.last4,
            "routing_number": "110000000",
        },
    }


def as_object(pm: TestPaymentMethod, pm_id: str | None = None, **fields) -> dict:
    """The PaymentMethod object for a test row.

    At Stripe a test id like `pm_card_visa` makes a new `pm_...` on each use; here the
    test id is the PaymentMethod's id throughout, so a retrieve answers for it as is.
    PaymentMethods made from a token or bank details get an id of their own (`pm_id`).
    """
    obj = {
        "id": pm_id or pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": objects.billing_details(),
        "created": _CREATED,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": pm.kind,
        **fields,
    }
    own = details(pm)[pm.kind]
    if pm.kind == "card":
        own.pop("network")
        obj["card"] = {
            **own,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "display_brand": pm.brand,
            "generated_from": None,
            "networks": {"available": [pm.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }
    elif pm.kind == "sepa_debit":
        obj[pm.kind] = {**own, "generated_from": {"charge": None, "setup_attempt": None}}
    else:
        obj[pm.kind] = {
            **own,
            "financial_connections_account": None,
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "status_details": {},
        }
    return objects.build("payment_method", **obj)  # every field Stripe sends
