"""Stripe's test payment methods and card numbers, and what each one does.

The ids are Stripe's own test ids, so code written against the emulator works against
Stripe's test mode unchanged. `pm_async_success` / `pm_async_failure` stand for a delayed
payment method (a bank debit): Stripe has no single test id for that, so the emulator adds
one. The hosted Checkout page offers the same behaviours as card numbers.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from stripe_emulator import objects
from stripe_emulator.errors import missing_resource
from stripe_emulator.state import now


class Outcome(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure: requires_action until authenticated
    ASYNC_SUCCESS = "async_success"  # processing, then succeeded
    ASYNC_FAILURE = "async_failure"  # processing, then failed
    DISPUTE = "dispute"  # succeeds, then a dispute opens


@dataclass(frozen=True)
class TestPaymentMethod:
    id: str
    outcome: Outcome
    label: str
    number: str | None = None
    brand: str = "visa"
    last4: str = "4242"
    kind: str = "card"
    decline_code: str | None = None
    decline_message: str | None = None


PAYMENT_METHODS = [
    TestPaymentMethod("pm_card_visa", Outcome.SUCCEED, "Visa, succeeds", "4242424242424242"),
    TestPaymentMethod(
        "pm_card_visa_chargeDeclined",
        Outcome.DECLINE,
        "Declined (generic_decline)",
        "4000000000000002",
        last4="0002",
        decline_code="generic_decline",
        decline_message="Your card was declined.",
    ),
    TestPaymentMethod(
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        Outcome.DECLINE,
        "Declined (insufficient_funds)",
        "4000000000009995",
        last4="9995",
        decline_code="insufficient_funds",
        decline_message="Your card has insufficient funds.",
    ),
    TestPaymentMethod(
        "pm_card_threeDSecure2Required",
        Outcome.AUTHENTICATE,
        "3-D Secure required",
        "4000002500003155",
        last4="3155",
    ),
    TestPaymentMethod(
        "pm_card_createDispute",
        Outcome.DISPUTE,
        "Succeeds, then disputed",
        "4000000000000259",
        last4="0259",
    ),
    TestPaymentMethod(
        "pm_async_success",
        Outcome.ASYNC_SUCCESS,
        "Bank debit, succeeds later",
        kind="us_bank_account",
        brand="",
        last4="6789",
    ),
    TestPaymentMethod(
        "pm_async_failure",
        Outcome.ASYNC_FAILURE,
        "Bank debit, fails later",
        kind="us_bank_account",
        brand="",
        last4="1116",
    ),
]
BY_ID = {pm.id: pm for pm in PAYMENT_METHODS}
# The hosted page's choices: a card number, or the payment method id for the bank debits.
BY_CHOICE = {pm.number or pm.id: pm for pm in PAYMENT_METHODS}


def payment_method(payment_method_id: str, param: str = "payment_method") -> TestPaymentMethod:
    try:
        return BY_ID[payment_method_id]
    except KeyError:
        raise missing_resource("PaymentMethod", payment_method_id, param) from None


def details(pm: TestPaymentMethod) -> dict:
    """`charge.payment_method_details` for this payment method."""
    if pm.kind == "card":
        return {
            "type": "card",
            "card": {
                "brand": pm.brand,
                "last4": pm.last4,
                "exp_month": 12,
                "exp_year": 2034,
                "country": "US",
                "funding": "credit",
            },
        }
    return {pm.kind: {"last4": pm.last4, "bank_name": "STRIPE TEST BANK"}, "type": pm.kind}


# The test payment methods exist as long as the emulator runs, like Stripe's own.
_CREATED = now()


def as_object(pm: TestPaymentMethod) -> dict:
    """The PaymentMethod object `GET /v1/payment_methods/<id>` answers for a test id.

    At Stripe a test id like `pm_card_visa` makes a new `pm_...` on each use; here the
    test id is the PaymentMethod's id throughout, so a retrieve answers for it as is.
    """
    obj = {
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "created": _CREATED,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": pm.kind,
    }
    fingerprint = hashlib.sha256(pm.id.encode()).hexdigest()[:16]
    if pm.kind == "card":
        obj["card"] = {
            **details(pm)["card"],
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "display_brand": pm.brand,
            "fingerprint": fingerprint,
            "generated_from": None,
            "networks": {"available": [pm.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }
    else:
        obj[pm.kind] = {
            **details(pm)[pm.kind],
            "account_holder_type": "individual",
            "account_type": "checking",
            "financial_connections_account": None,
            "fingerprint": fingerprint,
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": {},
        }
    return objects.build("payment_method", **obj)  # every field Stripe sends
