"""What a test payment method is: its card (or bank account) and what Stripe does with it."""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """The family a test payment method belongs to (the docs group them so)."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure: requires_action until authenticated
    ASYNC_SUCCESS = "async_success"  # a bank debit: processing, then succeeded
    ASYNC_FAILURE = "async_failure"  # a bank debit: processing, then failed
    ASYNC_PENDING = "async_pending"  # a bank debit that stays processing
    DISPUTE = "dispute"  # succeeds, then a dispute opens
    REFUND = "refund"  # succeeds; its refunds settle or fail later


@dataclass(frozen=True)
class Decline:
    """A card error as Stripe answers it (402, `type=card_error`)."""

    decline_code: str | None
    message: str
    code: str = "card_declined"
    param: str | None = None
    # What the issuer advises (`try_again_later`, `do_not_try_again`, `confirm_card_data`).
    advice_code: str | None = None
    # Radar blocks before the network sees the card; issuers decline after.
    blocked: bool = False

    def outcome(self) -> dict:
        if self.blocked:
            return {
                "network_status": "not_sent_to_network",
                "reason": "highest_risk_level",
                "risk_level": "highest",
                "risk_score": 95,
                "seller_message": "Stripe blocked this payment as too risky.",
                "type": "blocked",
            }
        return {
            "network_status": "declined_by_network",
            "reason": self.decline_code,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
            "advice_code": self.advice_code,
        }


GENERIC = Decline("generic_decline", "Your card was declined.", advice_code="try_again_later")
INSUFFICIENT_FUNDS = Decline(
    "insufficient_funds", "Your card has insufficient funds.", advice_code="try_again_later"
)
LOST_CARD = Decline("lost_card", "Your card was declined.", advice_code="do_not_try_again")
STOLEN_CARD = Decline("stolen_card", "Your card was declined.", advice_code="do_not_try_again")
EXPIRED_CARD = Decline(
    "expired_card",
    "Your card has expired.",
    code="expired_card",
    param="exp_month",
    advice_code="confirm_card_data",
)
INCORRECT_CVC = Decline(
    "incorrect_cvc",
    "Your card's security code is incorrect.",
    code="incorrect_cvc",
    param="cvc",
    advice_code="confirm_card_data",
)
PROCESSING_ERROR = Decline(
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
    code="processing_error",
    advice_code="try_again_later",
)
VELOCITY = Decline(
    "card_velocity_exceeded",
    "Your card was declined for making repeated attempts too frequently or exceeding its "
    "amount limit.",
)
FRAUDULENT = Decline("fraudulent", "Your card was declined.", blocked=True)
# Refused when the card is collected, before any payment (the number fails its check digit).
INCORRECT_NUMBER = Decline(
    None, "Your card number is incorrect.", code="incorrect_number", param="number"
)

# What a failed bank debit's charge says (Stripe's ACH and SEPA failure codes).
BANK_FAILURES = {
    "account_closed": "The customer's bank account has been closed.",
    "no_account": "The customer's bank account could not be located.",
    "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
    "debit_not_authorized": "The customer has notified their bank that this payment was "
    "unauthorized.",
    "invalid_currency": "The bank was unable to process this payment because of its currency.",
    "incorrect_account_holder_name": "The customer's bank account holder name is incorrect.",
}


@dataclass(frozen=True)
class TestPaymentMethod:
    """One row of Stripe's testing docs.

    `id` is Stripe's test PaymentMethod id (None when Stripe documents only the number);
    `aliases` are other ids Stripe takes for the same card. `number` is the card number,
    the US account number or the IBAN. Cards also work as tokens: `tok_` + the part of
    the id after `pm_card_`.
    """

    id: str | None
    outcome: Outcome
    label: str
    number: str | None = None
    brand: str = "visa"
    funding: str = "credit"
    country: str = "US"
    kind: str = "card"  # card, us_bank_account or sepa_debit
    aliases: tuple[str, ...] = ()
    decline: Decline | None = None  # after authentication when `outcome` is AUTHENTICATE
    risk_level: str = "normal"
    dispute_reason: str | None = None
    inquiry: bool = False
    refund: str | None = None  # "pending" (then succeeds) or "fail" (succeeds, then fails)
    failure_code: str | None = None  # a bank debit's failure
    delay_seconds: int = 0  # a bank debit settling later than the emulator's usual delay
    emulator_only: bool = False  # not a Stripe id: kept for code written before

    @property
    def last4(self) -> str:
        return (self.number or "0000")[-4:]

    @property
    def ids(self) -> tuple[str, ...]:
        return ((self.id,) if self.id else ()) + self.aliases

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(
            "tok_" + pm_id.removeprefix("pm_card_")
            for pm_id in self.ids
            if pm_id.startswith("pm_card_")
        )
