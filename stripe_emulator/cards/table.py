"""The one table of Stripe's documented test payment methods (docs.stripe.com/testing,
/payments/ach-direct-debit and /payments/sepa-debit), and what each does.

The docs page, `python -m stripe_emulator --help` and `GET /_emulator/test_cards` are all
made from this list (stripe_emulator/cards/reference.py).
"""

from stripe_emulator.cards.model import (
    EXPIRED_CARD,
    FRAUDULENT,
    GENERIC,
    INCORRECT_CVC,
    INCORRECT_NUMBER,
    INSUFFICIENT_FUNDS,
    LOST_CARD,
    PROCESSING_ERROR,
    STOLEN_CARD,
    VELOCITY,
    Outcome,
    TestPaymentMethod,
)

M = TestPaymentMethod
O = Outcome  # noqa: E741 (one letter keeps the table readable)
ACH = "us_bank_account"
SEPA = "sepa_debit"
# Stripe documents "at least three minutes" for its delayed SEPA test IBANs.
SEPA_DELAY = 180

BY_BRAND = [
    M("pm_card_visa", O.SUCCEED, "Visa", "4242424242424242"),
    M("pm_card_visa_debit", O.SUCCEED, "Visa (debit)", "4000056655665556", funding="debit"),
    M("pm_card_mastercard", O.SUCCEED, "Mastercard", "5555555555554444", brand="mastercard"),
    M(
        "pm_card_mastercard_debit",
        O.SUCCEED,
        "Mastercard (debit)",
        "5200828282828210",
        brand="mastercard",
        funding="debit",
    ),
    M(
        "pm_card_mastercard_prepaid",
        O.SUCCEED,
        "Mastercard (prepaid)",
        "5105105105105100",
        brand="mastercard",
        funding="prepaid",
    ),
    M("pm_card_amex", O.SUCCEED, "American Express", "378282246310005", brand="amex"),
    M("pm_card_discover", O.SUCCEED, "Discover", "6011111111111117", brand="discover"),
    M("pm_card_diners", O.SUCCEED, "Diners Club", "3056930009020004", brand="diners"),
    M("pm_card_jcb", O.SUCCEED, "JCB", "3566002020360505", brand="jcb", country="JP"),
    M("pm_card_unionpay", O.SUCCEED, "UnionPay", "6200000000000005", brand="unionpay"),
]

DECLINES = [
    M(
        "pm_card_visa_chargeDeclined",
        O.DECLINE,
        "Generic decline",
        "4000000000000002",
        aliases=("pm_card_chargeDeclined",),
        decline=GENERIC,
    ),
    M(
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        O.DECLINE,
        "Insufficient funds decline",
        "4000000000009995",
        aliases=("pm_card_chargeDeclinedInsufficientFunds",),
        decline=INSUFFICIENT_FUNDS,
    ),
    M(
        "pm_card_visa_chargeDeclinedLostCard",
        O.DECLINE,
        "Lost card decline",
        "4000000000009987",
        aliases=("pm_card_chargeDeclinedLostCard",),
        decline=LOST_CARD,
    ),
    M(
        "pm_card_visa_chargeDeclinedStolenCard",
        O.DECLINE,
        "Stolen card decline",
        "4000000000009979",
        aliases=("pm_card_chargeDeclinedStolenCard",),
        decline=STOLEN_CARD,
    ),
    M(
        "pm_card_chargeDeclinedExpiredCard",
        O.DECLINE,
        "Expired card decline",
        "4000000000000069",
        decline=EXPIRED_CARD,
    ),
    M(
        "pm_card_chargeDeclinedIncorrectCvc",
        O.DECLINE,
        "Incorrect CVC decline",
        "4000000000000127",
        decline=INCORRECT_CVC,
    ),
    M(
        "pm_card_chargeDeclinedProcessingError",
        O.DECLINE,
        "Processing error decline",
        "4000000000000119",
        decline=PROCESSING_ERROR,
    ),
    M(
        "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
        O.DECLINE,
        "Exceeding velocity limit decline",
        "4000000000006975",
        aliases=("pm_card_chargeDeclinedVelocityLimitExceeded",),
        decline=VELOCITY,
    ),
    M(
        "pm_card_chargeCustomerFail",
        O.DECLINE,
        "Attaches to a customer, every charge declined",
        "4000000000000341",
        decline=GENERIC,
    ),
    M(
        None,
        O.DECLINE,
        "Incorrect number (fails the check digit; refused when the card is entered)",
        "4242424242424241",
        decline=INCORRECT_NUMBER,
    ),
]

FRAUD = [
    M(
        "pm_card_radarBlock",
        O.DECLINE,
        "Always blocked by Radar",
        "4100000000000019",
        aliases=("pm_card_chargeDeclinedFraudulent",),
        decline=FRAUDULENT,
        risk_level="highest",
    ),
    M(
        "pm_card_riskLevelHighest",
        O.DECLINE,
        "Highest risk: blocked by Radar's default rule",
        "4000000000004954",
        decline=FRAUDULENT,
        risk_level="highest",
    ),
    M(
        "pm_card_riskLevelElevated",
        O.SUCCEED,
        "Elevated risk: succeeds, `outcome.risk_level` elevated",
        "4000000000009235",
        risk_level="elevated",
    ),
]

THREE_D_SECURE = [
    M(
        "pm_card_threeDSecure2Required",
        O.AUTHENTICATE,
        "3D Secure 2 required",
        "4000000000003220",
        country="IE",
    ),
    M("pm_card_threeDSecureRequired", O.AUTHENTICATE, "3D Secure required", "4000000000003063"),
    M(
        "pm_card_authenticationRequired",
        O.AUTHENTICATE,
        "Always authenticate",
        "4000002760003184",
        country="DE",
    ),
    M(
        "pm_card_authenticationRequiredOnSetup",
        O.AUTHENTICATE,
        "Authenticate unless set up (a one-time payment authenticates)",
        "4000002500003155",
        country="IE",
    ),
    M(
        "pm_card_threeDSecureRequiredChargeDeclined",
        O.AUTHENTICATE,
        "3D Secure required, then declined",
        "4000008400001629",
        decline=GENERIC,
    ),
    M(
        "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
        O.AUTHENTICATE,
        "Authenticate, then insufficient funds",
        "4000008260003178",
        country="DE",
        decline=INSUFFICIENT_FUNDS,
    ),
    M(
        "pm_card_threeDSecureOptional",
        O.SUCCEED,
        "3D Secure supported, not required",
        "4000000000003055",
    ),
]

DISPUTES = [
    M(
        "pm_card_createDispute",
        O.DISPUTE,
        "Fraudulent dispute",
        "4000000000000259",
        dispute_reason="fraudulent",
    ),
    M(
        "pm_card_createDisputeProductNotReceived",
        O.DISPUTE,
        "Product not received dispute",
        "4000000000002685",
        dispute_reason="product_not_received",
    ),
    M(
        "pm_card_createDisputeInquiry",
        O.DISPUTE,
        "Inquiry",
        "4000000000001976",
        dispute_reason="fraudulent",
        inquiry=True,
    ),
]

REFUNDS = [
    M(
        "pm_card_pendingRefund",
        O.REFUND,
        "Refund starts pending, succeeds later",
        "4000000000007726",
        refund="pending",
    ),
    M(
        "pm_card_refundFail",
        O.REFUND,
        "Refund succeeds, then fails (`expired_or_canceled_card`)",
        "4000000000005126",
        refund="fail",
    ),
]

US_BANK_ACCOUNTS = [
    M("pm_usBankAccount_success", O.ASYNC_SUCCESS, "ACH debit succeeds", "000123456789", kind=ACH),
    M(
        "pm_usBankAccount_accountClosed",
        O.ASYNC_FAILURE,
        "ACH debit fails: account closed",
        "000111111113",
        kind=ACH,
        failure_code="account_closed",
    ),
    M(
        "pm_usBankAccount_noAccount",
        O.ASYNC_FAILURE,
        "ACH debit fails: no account found",
        "000111111116",
        kind=ACH,
        failure_code="no_account",
    ),
    M(
        "pm_usBankAccount_insufficientFunds",
        O.ASYNC_FAILURE,
        "ACH debit fails: insufficient funds",
        "000222222227",
        kind=ACH,
        failure_code="insufficient_funds",
    ),
    M(
        "pm_usBankAccount_debitNotAuthorized",
        O.ASYNC_FAILURE,
        "ACH debit fails: debit not authorized",
        "000333333335",
        kind=ACH,
        failure_code="debit_not_authorized",
    ),
    M(
        "pm_usBankAccount_invalidCurrency",
        O.ASYNC_FAILURE,
        "ACH debit fails: invalid currency",
        "000444444440",
        kind=ACH,
        failure_code="invalid_currency",
    ),
    M(
        "pm_usBankAccount_dispute",
        O.ASYNC_SUCCESS,
        "ACH debit succeeds, then is disputed",
        "000555555559",
        kind=ACH,
        dispute_reason="debit_not_authorized",
    ),
    M(
        "pm_usBankAccount_processing",
        O.ASYNC_PENDING,
        "ACH debit stays processing",
        "000000000009",
        kind=ACH,
    ),
]

SEPA_IBANS = [
    M(
        "pm_success_de",
        O.ASYNC_SUCCESS,
        "SEPA debit succeeds",
        "DE89370400440532013000",
        kind=SEPA,
        country="DE",
    ),
    M(
        "pm_successDelayed_de",
        O.ASYNC_SUCCESS,
        "SEPA debit succeeds after three minutes",
        "DE08370400440532013003",
        kind=SEPA,
        country="DE",
        delay_seconds=SEPA_DELAY,
    ),
    M(
        "pm_disputed_de",
        O.ASYNC_SUCCESS,
        "SEPA debit succeeds, then is disputed",
        "DE35370400440532013002",
        kind=SEPA,
        country="DE",
        dispute_reason="debit_not_authorized",
    ),
    M(
        "pm_failed_de",
        O.ASYNC_FAILURE,
        "SEPA debit fails",
        "DE62370400440532013001",
        kind=SEPA,
        country="DE",
        failure_code="incorrect_account_holder_name",
    ),
    M(
        "pm_failedDelayed_de",
        O.ASYNC_FAILURE,
        "SEPA debit fails after three minutes",
        "DE78370400440532013004",
        kind=SEPA,
        country="DE",
        failure_code="incorrect_account_holder_name",
        delay_seconds=SEPA_DELAY,
    ),
]

# Ids this emulator made up before it knew Stripe's: they still work, but code that
# uses them fails at Stripe. Use pm_usBankAccount_success / _debitNotAuthorized.
EMULATOR_ONLY = [
    M(
        "pm_async_success",
        O.ASYNC_SUCCESS,
        "Emulator only: use `pm_usBankAccount_success`",
        "000123456789",
        kind=ACH,
        emulator_only=True,
    ),
    M(
        "pm_async_failure",
        O.ASYNC_FAILURE,
        "Emulator only: use `pm_usBankAccount_debitNotAuthorized`",
        "000333333335",
        kind=ACH,
        failure_code="debit_not_authorized",
        emulator_only=True,
    ),
]

SECTIONS = [
    ("Cards by brand", BY_BRAND),
    ("Declined payments", DECLINES),
    ("Fraud prevention (Radar)", FRAUD),
    ("3D Secure", THREE_D_SECURE),
    ("Disputes", DISPUTES),
    ("Refunds", REFUNDS),
    ("US bank accounts (ACH Direct Debit, routing number 110000000)", US_BANK_ACCOUNTS),
    ("SEPA Direct Debit IBANs", SEPA_IBANS),
    ("Emulator-only ids (not Stripe's)", EMULATOR_ONLY),
]
PAYMENT_METHODS = [pm for _, rows in SECTIONS for pm in rows]
