"""PaymentMethods: Stripe's test ids, and those made from a test token, US bank account
number or IBAN (`POST /v1/payment_methods`, or `payment_method_data` on a PaymentIntent).

A mixin of `Payments` (stripe_emulator.payments): it shares its store and runs with the
store's lock held. A PaymentMethod made here gets an id of its own (`pm_...`, as at
Stripe) and remembers the test row it came from, which decides what paying with it does.
"""

from stripe_emulator import cards
from stripe_emulator.cards import TestPaymentMethod
from stripe_emulator.errors import StripeAPIError, invalid, missing_resource
from stripe_emulator.state import merge_metadata, new_id, now

# What Stripe answers a raw card number unless the account may send raw card data.
RAW_CARD_DATA = (
    "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest "
    "you use test tokens that map to the test card you are using, see "
    "https://stripe.com/docs/testing. To enable testing raw card data APIs, see "
    "https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis."
)
TEST_ROUTING_NUMBER = "110000000"
# What Stripe answers a real card number in test mode.
LIVE_CARD = (
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing."
)


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return len(digits) >= 12 and total % 10 == 0


class PaymentMethods:
    def method(self, payment_method_id: str, param: str = "payment_method") -> TestPaymentMethod:
        """The test row behind a PaymentMethod id (a test id or one made here)."""
        if self.store.find("payment_method", payment_method_id) is not None:
            return self.store.private[payment_method_id]["test_method"]
        return cards.payment_method(payment_method_id, param)

    def payment_method_object(self, payment_method_id: str, param: str = "id") -> dict:
        made = self.store.find("payment_method", payment_method_id)
        if made is not None:
            return made
        return cards.as_object(cards.payment_method(payment_method_id, param))

    def create_payment_method(self, params: dict, param: str = "") -> dict:
        """`param` prefixes the names in errors (`payment_method_data` on a PaymentIntent)."""
        kind = params.get("type")
        data = params.get(kind) or {} if isinstance(kind, str) else {}
        if kind == "card":
            test = self._card(data, param)
        elif kind in ("us_bank_account", "sepa_debit"):
            test = self._bank_account(kind, data, param)
        else:
            raise invalid(
                f"The emulator makes PaymentMethods of type card, us_bank_account and "
                f"sepa_debit only, not {kind!r}.",
                code="parameter_invalid",
                param=f"{param}[type]" if param else "type",
            )
        return self._add_payment_method(test, params)

    def payment_method_for_card_number(self, number: str) -> str:
        """What Stripe.js does with a number typed on a payment page: a PaymentMethod id."""
        test = cards.BY_NUMBER.get(("card", number))
        if test is None and number.isdigit() and luhn_valid(number):
            raise StripeAPIError(
                402,
                LIVE_CARD,
                type_="card_error",
                code="card_declined",
                decline_code="test_mode_live_card",
            )
        if test is None or (test.decline is not None and test.decline.code == "incorrect_number"):
            raise StripeAPIError(
                402,
                "Your card number is incorrect.",
                type_="card_error",
                code="incorrect_number",
                param="number",
            )
        return test.id or self._add_payment_method(test, {})["id"]

    def _card(self, card: dict, param: str) -> TestPaymentMethod:
        prefix = f"{param}[card]" if param else "card"
        if card.get("number"):
            raise StripeAPIError(402, RAW_CARD_DATA)
        token = card.get("token")
        if not token:
            raise invalid(
                f"Missing required param: {prefix}[token].",
                code="parameter_missing",
                param=f"{prefix}[token]",
            )
        test = cards.BY_TOKEN.get(token)
        if test is None:
            raise missing_resource("token", token, f"{prefix}[token]")
        return test

    def _bank_account(self, kind: str, data: dict, param: str) -> TestPaymentMethod:
        prefix = f"{param}[{kind}]" if param else kind
        if kind == "sepa_debit":
            number, field = "".join((data.get("iban") or "").split()).upper(), "iban"
        else:
            routing = data.get("routing_number")
            if routing != TEST_ROUTING_NUMBER:
                raise invalid(
                    f"Routing number {routing!r} is not the test routing number "
                    f"{TEST_ROUTING_NUMBER}.",
                    code="routing_number_invalid",
                    param=f"{prefix}[routing_number]",
                )
            number, field = data.get("account_number") or "", "account_number"
        test = cards.BY_NUMBER.get((kind, number))
        if test is None:
            raise invalid(
                f"{number!r} is not one of Stripe's test {field.replace('_', ' ')}s "
                "(python -m stripe_emulator --help lists them).",
                code="parameter_invalid",
                param=f"{prefix}[{field}]",
            )
        return test

    def _add_payment_method(self, test: TestPaymentMethod, params: dict) -> dict:
        obj = cards.as_object(
            test,
            new_id("pm"),
            created=now(),
            metadata=merge_metadata({}, params.get("metadata") or {}),
        )
        given = params.get("billing_details") or {}
        for key in ("email", "name", "phone"):
            if given.get(key):
                obj["billing_details"][key] = given[key]
        self.store.add(obj, test_method=test)
        return obj
