"""PaymentIntents and Charges (with Refunds and Disputes mixed in): their lifecycles and
the events they emit.

Every function here runs with the store's lock held (the API, control and timer layers
take it). Events are emitted in the order Stripe sends them for the same change (charge
first, then the PaymentIntent), though receivers must not rely on order, and the emulator
can shuffle deliveries on purpose.
"""

from stripe_emulator import cards, money, objects, rules
from stripe_emulator.authorizations import Authorizations
from stripe_emulator.balance import Balance
from stripe_emulator.cards import Outcome
from stripe_emulator.disputes import Disputes
from stripe_emulator.errors import StripeAPIError, invalid, unexpected_state
from stripe_emulator.payment_methods import PaymentMethods
from stripe_emulator.refunds import Refunds
from stripe_emulator.state import AUTOMATIC, RequestContext, Store, merge_metadata, new_id, now
from stripe_emulator.timers import Timers

CANCELABLE = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
}
CONFIRMABLE = {"requires_payment_method", "requires_confirmation"}
UPDATABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}


# What a failed bank debit's PaymentIntent says (the charge says why).
ATTEMPT_FAILED = (
    "The latest payment attempt of this PaymentIntent has failed or been canceled, and the "
    "attached payment method has been removed. You can try confirming again with a new "
    "payment method."
)


class Payments(PaymentMethods, Refunds, Disputes, Authorizations):
    def __init__(self, store: Store, *, base_url: str, async_delay: float, timers: Timers):
        self.store = store
        self.timers = timers  # expiry and settlement, in emulator or test clock time
        self.base_url = base_url
        # Seconds before a delayed payment method settles by itself; 0: only on request.
        self.async_delay = async_delay
        self.balance = Balance(store)
        store.virtual_fields[("charge", "refunds")] = self._charge_refunds
        # A PaymentIntent's or refund's `payment_method` expands to the PaymentMethod.
        for holder in ("payment_intent", "refund"):
            store.virtual_fields[(holder, "payment_method")] = self._expanded_payment_method

    # --- PaymentIntents ----------------------------------------------------------------
    def create_intent(self, params: dict, ctx: RequestContext) -> dict:
        currency = money.check_currency(params["currency"])
        money.check_amount(params["amount"], currency)
        rules.check_email(params, "receipt_email")
        rules.check_exclusive(
            params, "automatic_payment_methods", "payment_method_types", "confirmation_method"
        )
        automatic = rules.automatic_payment_methods(params)
        if params.get("confirm"):
            rules.check_return_url(automatic, params.get("return_url"), ctx)
        if params.get("customer"):
            self.store.get("customer", params["customer"], param="customer")
        intent_id = new_id("pi")
        payment_method = self._payment_method_param(params)
        intent = objects.build(
            "payment_intent",
            id=intent_id,
            amount=params["amount"],
            automatic_payment_methods=automatic,
            capture_method=params.get("capture_method", "automatic_async"),
            client_secret=f"{intent_id}_secret_{new_id('s')[2:]}",
            confirmation_method=params.get("confirmation_method", "automatic"),
            created=now(),
            currency=currency,
            customer=params.get("customer") or None,
            description=params.get("description") or None,
            metadata=merge_metadata({}, params.get("metadata") or {}),
            payment_method=payment_method or None,
            payment_method_options=objects.payment_method_options(
                params.get("payment_method_types") or ["card"]
            ),
            payment_method_types=params.get("payment_method_types") or ["card"],
            receipt_email=params.get("receipt_email") or None,
            statement_descriptor=params.get("statement_descriptor") or None,
            status="requires_confirmation" if payment_method else "requires_payment_method",
        )
        self.store.add(intent)
        self.store.emit("payment_intent.created", intent, ctx)
        if params.get("confirm"):
            self.confirm_intent(intent, {"return_url": params.get("return_url")}, ctx)
        return intent

    def update_intent(self, intent: dict, params: dict, ctx: RequestContext) -> dict:
        if intent["status"] not in UPDATABLE and set(params) - {"metadata", "description"}:
            raise unexpected_state(
                "payment_intent_unexpected_state",
                f"This PaymentIntent's {', '.join(sorted(params))} could not be updated "
                f"because it has a status of {intent['status']}.",
            )
        currency = money.check_currency(params.get("currency", intent["currency"]))
        money.check_amount(params.get("amount", intent["amount"]), currency)
        rules.check_email(params, "receipt_email")
        if "currency" in params:
            params = {**params, "currency": currency}
        if params.get("payment_method") or params.get("payment_method_data"):
            params = {**params, "payment_method": self._payment_method_param(params)}
            params.pop("payment_method_data", None)
        for key, value in params.items():
            if key == "metadata":
                intent["metadata"] = merge_metadata(intent["metadata"], value)
            elif key == "payment_method":
                intent["payment_method"] = value or None
                if intent["status"] == "requires_payment_method":
                    intent["status"] = "requires_confirmation"
            elif key in intent and key not in ("id", "object", "status"):
                intent[key] = value if value != "" else None
        return intent

    def confirm_intent(self, intent: dict, params: dict, ctx: RequestContext) -> dict:
        if intent["status"] not in CONFIRMABLE:
            raise unexpected_state(
                "payment_intent_unexpected_state",
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}.",
            )
        rules.check_email(params, "receipt_email")
        rules.check_return_url(intent["automatic_payment_methods"], params.get("return_url"), ctx)
        for key in ("receipt_email", "capture_method"):
            if params.get(key):
                intent[key] = params[key]
        pm_id = self._payment_method_param(params) or intent["payment_method"]
        if not pm_id:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        pm = self.method(pm_id)
        intent["payment_method"] = pm_id
        intent["last_payment_error"] = None
        private = self.store.private[intent["id"]]
        private["return_url"] = params.get("return_url")
        if pm.outcome == Outcome.AUTHENTICATE:
            return self._require_action(intent, ctx)
        if pm.kind != "card":
            return self._start_processing(intent, pm, ctx)
        if pm.outcome == Outcome.DECLINE:
            self._decline(intent, pm, ctx)
            raise self._card_error(intent)
        return self._authorize(intent, pm, ctx)

    def _require_action(self, intent: dict, ctx) -> dict:
        previous = intent["status"]
        url = f"{self.base_url}/3ds/{intent['id']}"
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": url,
                "return_url": self.store.private[intent["id"]].get("return_url"),
            },
        }
        self.store.emit("payment_intent.requires_action", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        return intent

    def authenticate(self, intent: dict, succeeded: bool, ctx=AUTOMATIC) -> dict:
        """The shopper passed or failed 3-D Secure."""
        if intent["status"] != "requires_action":
            raise unexpected_state(
                "payment_intent_unexpected_state",
                f"This PaymentIntent is {intent['status']}, not waiting for authentication.",
            )
        intent["next_action"] = None
        pm = self.method(intent["payment_method"])
        if succeeded and pm.decline is not None:  # authenticated, then the issuer declines
            self._decline(intent, pm, ctx)
            return intent
        if succeeded:
            return self._authorize(intent, pm, ctx)
        previous = intent["status"]
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": "We are unable to authenticate your payment method. Please choose a "
            "different payment method and try again.",
            "payment_method": self._expanded_method(intent),  # as in Stripe's events
        }
        self.store.emit("payment_intent.payment_failed", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        return intent

    def _new_charge(self, intent: dict, pm, status: str, **fields) -> dict:
        base = dict(
            id=new_id("ch"),
            amount=intent["amount"],
            billing_details=objects.billing_details(email=intent.get("receipt_email")),
            created=now(),
            currency=intent["currency"],
            customer=intent.get("customer"),
            description=intent.get("description"),
            metadata=dict(intent["metadata"]),
            payment_intent=intent["id"],
            payment_method=intent["payment_method"],
            payment_method_details=objects.charge_payment_method_details(
                cards.details(pm),
                intent["amount"],
                cards.fingerprint(pm),
            ),
            receipt_email=intent.get("receipt_email"),
            status=status,
        )
        charge = objects.build("charge", **{**base, **fields})
        if charge["outcome"] is not None:
            charge["outcome"] = objects.charge_outcome(**charge["outcome"])
        self.store.add(charge)
        intent["latest_charge"] = charge["id"]
        return charge

    def _decline(self, intent: dict, pm, ctx) -> None:
        previous = intent["status"]
        decline = pm.decline
        charge = self._new_charge(
            intent,
            pm,
            "failed",
            failure_code=decline.code,
            failure_message=decline.message,
            outcome=decline.outcome(),
        )
        intent["status"] = "requires_payment_method"
        error = {"type": "card_error", "code": decline.code, "decline_code": decline.decline_code}
        if decline.param:
            error["param"] = decline.param
        if decline.advice_code:
            error["advice_code"] = decline.advice_code
        intent["last_payment_error"] = {
            **error,
            "message": decline.message,
            "charge": charge["id"],
            "payment_method": self._expanded_method(intent),  # as in Stripe's events
        }
        self.store.emit("charge.failed", charge, ctx)
        self.store.emit("payment_intent.payment_failed", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)

    def _card_error(self, intent: dict) -> StripeAPIError:
        error = intent["last_payment_error"]
        return StripeAPIError(
            402,
            error["message"],
            type_="card_error",
            code=error["code"],
            param=error.get("param"),
            decline_code=error.get("decline_code"),
            extra={
                **({"advice_code": error["advice_code"]} if "advice_code" in error else {}),
                "charge": error.get("charge"),
                "payment_intent": self.store.render(intent),
                "payment_method": error.get("payment_method"),
            },
        )

    def _authorize(self, intent: dict, pm, ctx) -> dict:
        previous = intent["status"]
        manual = intent["capture_method"] == "manual"
        charge = self._new_charge(
            intent,
            pm,
            "succeeded",
            paid=True,
            captured=not manual,
            amount_captured=0 if manual else intent["amount"],
            outcome={
                "network_status": "approved_by_network",
                "reason": "elevated_risk_level" if pm.risk_level == "elevated" else None,
                "risk_level": pm.risk_level,
                "risk_score": 70 if pm.risk_level == "elevated" else 20,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
        )
        if manual:  # an authorisation alone moves no money, and expires (authorizations.py)
            self._hold(intent, charge)
        else:
            charge["balance_transaction"] = self.balance.charge_captured(charge)
        self.store.emit("charge.succeeded", charge, ctx)
        if manual:
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
            self.store.emit("payment_intent.amount_capturable_updated", intent, ctx)
        else:
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            self.store.emit("payment_intent.succeeded", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        if pm.outcome == Outcome.DISPUTE and not manual:
            self.open_dispute(charge, pm.dispute_reason, inquiry=pm.inquiry)
        return intent

    def _start_processing(self, intent: dict, pm, ctx) -> dict:
        previous = intent["status"]
        charge = self._new_charge(intent, pm, "pending")
        intent["status"] = "processing"
        self.store.emit("charge.pending", charge, ctx)
        self.store.emit("payment_intent.processing", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        if self.async_delay > 0 and pm.outcome != Outcome.ASYNC_PENDING:
            self._settle_later(intent["id"], pm)
        return intent

    def _settle_later(self, intent_id: str, pm) -> None:
        def settle():
            intent = self.store.find("payment_intent", intent_id)
            if intent is not None and intent["status"] == "processing":
                self.settle(intent, pm.outcome == Outcome.ASYNC_SUCCESS)

        self._later(settle, pm.delay_seconds)

    def settle(self, intent: dict, succeeded: bool, ctx=AUTOMATIC) -> dict:
        """A delayed payment method's money arrived (or did not)."""
        if intent["status"] != "processing":
            raise unexpected_state(
                "payment_intent_unexpected_state",
                f"This PaymentIntent is {intent['status']}, not processing.",
            )
        previous = intent["status"]
        charge = self.store.get("charge", intent["latest_charge"])
        if succeeded:
            charge.update(
                status="succeeded",
                paid=True,
                captured=True,
                amount_captured=charge["amount"],
                outcome=objects.charge_outcome(
                    network_status="approved_by_network",
                    seller_message="Payment complete.",
                    type="authorized",
                ),
            )
            charge["balance_transaction"] = self.balance.charge_captured(charge)
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            self.store.emit("charge.succeeded", charge, ctx)
            self.store.emit("payment_intent.succeeded", intent, ctx)
        else:
            code = self.method(intent["payment_method"]).failure_code or "debit_not_authorized"
            charge.update(
                status="failed",
                failure_code=code,
                failure_message=cards.BANK_FAILURES[code],
                outcome=objects.charge_outcome(
                    network_status="declined_by_network", type="issuer_declined"
                ),
            )
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "invalid_request_error",
                "code": "payment_intent_payment_attempt_failed",
                "message": ATTEMPT_FAILED,
                "charge": charge["id"],
                "payment_method": self._expanded_method(intent),
            }
            self.store.emit("charge.failed", charge, ctx)
            self.store.emit("payment_intent.payment_failed", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        reason = self.method(intent["payment_method"]).dispute_reason
        if succeeded and reason:  # the account holder disputes the debit at once
            self.open_dispute(charge, reason)
        return intent

    def capture_intent(self, intent: dict, params: dict, ctx: RequestContext) -> dict:
        if intent["status"] != "requires_capture":
            raise unexpected_state(
                "payment_intent_unexpected_state",
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}.",
            )
        amount = params.get("amount_to_capture", intent["amount_capturable"])
        money.check_step(amount, intent["currency"], "amount_to_capture")
        if not 0 < amount <= intent["amount_capturable"]:
            raise invalid(
                "The amount to capture must be positive and at most the amount capturable "
                f"({intent['amount_capturable']}).",
                code="amount_too_large",
                param="amount_to_capture",
            )
        if "metadata" in params:
            intent["metadata"] = merge_metadata(intent["metadata"], params["metadata"])
        previous = intent["status"]
        charge = self.store.get("charge", intent["latest_charge"])
        charge.update(captured=True, amount_captured=amount)
        charge["balance_transaction"] = self.balance.charge_captured(charge)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.store.emit("charge.captured", charge, ctx)
        self.store.emit("payment_intent.succeeded", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        pm = self.method(intent["payment_method"])
        if pm.outcome == Outcome.DISPUTE:
            self.open_dispute(charge, pm.dispute_reason, inquiry=pm.inquiry)
        return intent

    def cancel_intent(self, intent: dict, params: dict, ctx: RequestContext) -> dict:
        if intent["status"] not in CANCELABLE:
            raise unexpected_state(
                "payment_intent_unexpected_state",
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following "
                f"statuses may be canceled: {', '.join(sorted(CANCELABLE))}.",
            )
        previous = intent["status"]
        if previous == "requires_capture":
            charge = self.store.get("charge", intent["latest_charge"])
            charge.update(refunded=True, amount_refunded=charge["amount"])
        intent.update(
            status="canceled",
            canceled_at=now(),
            cancellation_reason=params.get("cancellation_reason"),
            amount_capturable=0,
            next_action=None,
        )
        self.store.emit("payment_intent.canceled", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        return intent

    # --- payment methods on a PaymentIntent ---------------------------------------------
    def _payment_method_param(self, params: dict) -> str | None:
        """`payment_method` (checked), or one made from `payment_method_data`."""
        if params.get("payment_method_data"):
            data = params["payment_method_data"]
            return self.create_payment_method(data, "payment_method_data")["id"]
        if params.get("payment_method"):
            self.method(params["payment_method"])
        return params.get("payment_method") or None

    def _expanded_method(self, intent: dict) -> dict:
        return self.store.render(self.payment_method_object(intent["payment_method"]))

    def _expanded_payment_method(self, obj: dict):
        pm_id = obj.get("payment_method")
        if not isinstance(pm_id, str):
            return pm_id
        return self.payment_method_object(pm_id)
