"""PaymentIntents, Charges, Refunds and Disputes: their lifecycles and the events they emit.

Every function here runs with the store's lock held (the API, control and timer layers
take it). Events are emitted in the order Stripe sends them for the same change (charge
first, then the PaymentIntent), though receivers must not rely on order, and the emulator
can shuffle deliveries on purpose.
"""

import threading

from stripe_emulator import cards, money
from stripe_emulator.balance import Balance
from stripe_emulator.cards import Outcome
from stripe_emulator.errors import StripeAPIError, invalid, unexpected_state
from stripe_emulator.state import AUTOMATIC, RequestContext, Store, merge_metadata, new_id, now

CANCELABLE = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
}
CONFIRMABLE = {"requires_payment_method", "requires_confirmation"}
UPDATABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}
DISPUTE_OPEN = {"warning_needs_response", "needs_response", "under_review", "warning_under_review"}


class Payments:
    def __init__(self, store: Store, *, base_url: str, async_delay: float):
        self.store = store
        self.base_url = base_url
        # Seconds before a delayed payment method settles by itself; 0: only on request.
        self.async_delay = async_delay
        self.balance = Balance(store)
        store.virtual_fields[("charge", "refunds")] = self._charge_refunds

    # --- PaymentIntents ----------------------------------------------------------------
    def create_intent(self, params: dict, ctx: RequestContext) -> dict:
        currency = money.check_currency(params["currency"])
        money.check_amount(params["amount"], currency)
        if params.get("customer"):
            self.store.get("customer", params["customer"], param="customer")
        intent_id = new_id("pi")
        payment_method = params.get("payment_method")
        if payment_method:
            cards.payment_method(payment_method)
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": params["amount"],
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": (
                {"enabled": True, "allow_redirects": "always"}
                if (params.get("automatic_payment_methods") or {}).get("enabled")
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{new_id('s')[2:]}",
            "confirmation_method": params.get("confirmation_method", "automatic"),
            "created": now(),
            "currency": currency,
            "customer": params.get("customer") or None,
            "description": params.get("description") or None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": merge_metadata({}, params.get("metadata") or {}),
            "next_action": None,
            "payment_method": payment_method or None,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "receipt_email": params.get("receipt_email") or None,
            "statement_descriptor": params.get("statement_descriptor") or None,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
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
        if "currency" in params:
            params = {**params, "currency": currency}
        if params.get("payment_method"):
            cards.payment_method(params["payment_method"])
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
        for key in ("receipt_email", "capture_method"):
            if params.get(key):
                intent[key] = params[key]
        pm_id = params.get("payment_method") or intent["payment_method"]
        if not pm_id:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        pm = cards.payment_method(pm_id)
        intent["payment_method"] = pm.id
        intent["last_payment_error"] = None
        private = self.store.private[intent["id"]]
        private["return_url"] = params.get("return_url")
        if pm.outcome == Outcome.AUTHENTICATE:
            return self._require_action(intent, ctx)
        if pm.outcome in (Outcome.ASYNC_SUCCESS, Outcome.ASYNC_FAILURE):
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
        pm = cards.payment_method(intent["payment_method"])
        if succeeded:
            return self._authorize(intent, pm, ctx)
        previous = intent["status"]
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": "We are unable to authenticate your payment method. Please choose a "
            "different payment method and try again.",
            "payment_method": cards.as_object(pm),  # expanded, as in Stripe's events
        }
        self.store.emit("payment_intent.payment_failed", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        return intent

    def _new_charge(self, intent: dict, pm, status: str, **fields) -> dict:
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "balance_transaction": None,
            "billing_details": {"email": intent.get("receipt_email"), "name": None},
            "captured": False,
            "created": now(),
            "currency": intent["currency"],
            "customer": intent.get("customer"),
            "description": intent.get("description"),
            "disputed": False,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": None,
            "paid": False,
            "payment_intent": intent["id"],
            "payment_method": pm.id,
            "payment_method_details": cards.details(pm),
            "receipt_email": intent.get("receipt_email"),
            "refunded": False,
            "status": status,
            **fields,
        }
        self.store.add(charge)
        intent["latest_charge"] = charge["id"]
        return charge

    def _decline(self, intent: dict, pm, ctx) -> None:
        previous = intent["status"]
        charge = self._new_charge(
            intent,
            pm,
            "failed",
            failure_code="card_declined",
            failure_message=pm.decline_message,
            outcome={
                "network_status": "declined_by_network",
                "reason": pm.decline_code,
                "type": "issuer_declined",
                "seller_message": "The bank did not return any further details.",
            },
        )
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": pm.decline_code,
            "message": pm.decline_message,
            "charge": charge["id"],
            "payment_method": cards.as_object(pm),  # expanded, as in Stripe's events
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
            decline_code=error.get("decline_code"),
            extra={
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
                "reason": None,
                "type": "authorized",
                "seller_message": "Payment complete.",
            },
        )
        if not manual:  # an authorisation alone moves no money: capture does
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
            self.open_dispute(charge)
        return intent

    def _start_processing(self, intent: dict, pm, ctx) -> dict:
        previous = intent["status"]
        charge = self._new_charge(intent, pm, "pending")
        intent["status"] = "processing"
        self.store.emit("charge.pending", charge, ctx)
        self.store.emit("payment_intent.processing", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        if self.async_delay > 0:
            self._settle_later(intent["id"], pm.outcome == Outcome.ASYNC_SUCCESS)
        return intent

    def _settle_later(self, intent_id: str, succeeded: bool) -> None:
        def settle():
            intent = self.store.find("payment_intent", intent_id)
            if intent is not None and intent["status"] == "processing":
                self.settle(intent, succeeded)

        self._later(settle)

    def _later(self, action) -> None:
        """Run `action` under the store's lock after the async delay (the bank's pace)."""

        def run():
            with self.store.lock:
                action()

        timer = threading.Timer(self.async_delay, run)
        timer.daemon = True
        timer.start()

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
                outcome={"type": "authorized", "network_status": "approved_by_network"},
            )
            charge["balance_transaction"] = self.balance.charge_captured(charge)
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            self.store.emit("charge.succeeded", charge, ctx)
            self.store.emit("payment_intent.succeeded", intent, ctx)
        else:
            charge.update(
                status="failed",
                failure_code="debit_not_authorized",
                failure_message="The customer notified their bank that this payment was "
                "unauthorized.",
            )
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "payment_method_provider_decline",
                "decline_code": "debit_not_authorized",
                "message": "The payment failed: the bank refused the debit.",
                "charge": charge["id"],
                "payment_method": cards.as_object(cards.payment_method(intent["payment_method"])),
            }
            self.store.emit("charge.failed", charge, ctx)
            self.store.emit("payment_intent.payment_failed", intent, ctx)
        self.store.payment_intent_changed(intent, previous, ctx)
        return intent

    def capture_intent(self, intent: dict, params: dict, ctx: RequestContext) -> dict:
        if intent["status"] != "requires_capture":
            raise unexpected_state(
                "payment_intent_unexpected_state",
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}.",
            )
        amount = params.get("amount_to_capture", intent["amount_capturable"])
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
        if cards.payment_method(intent["payment_method"]).outcome == Outcome.DISPUTE:
            self.open_dispute(charge)
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

    # --- refunds ---------------------------------------------------------------------------
    def _charge_refunds(self, charge: dict) -> dict:
        refunds = [r for r in self.store.of_type("refund") if r["charge"] == charge["id"]]
        return self.store.page(refunds, {"limit": 100}, f"/v1/charges/{charge['id']}/refunds")

    def _refundable_charge(self, params: dict) -> dict:
        if params.get("charge") and params.get("payment_intent"):
            raise invalid(
                "You cannot pass both `charge` and `payment_intent`.",
                code="parameters_exclusive",
                param="charge",
            )
        if params.get("charge"):
            return self.store.get("charge", params["charge"], param="charge")
        if not params.get("payment_intent"):
            raise invalid(
                "One of `charge` or `payment_intent` is required.",
                code="parameter_missing",
                param="payment_intent",
            )
        intent = self.store.get("payment_intent", params["payment_intent"], param="payment_intent")
        charge = self.store.find("charge", intent["latest_charge"])
        if intent["status"] != "succeeded" or charge is None:
            raise invalid(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        return charge

    def create_refund(self, params: dict, ctx: RequestContext) -> dict:
        charge = self._refundable_charge(params)
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                f"Charge {charge['id']} has not been captured or did not succeed.",
                code="charge_not_refundable",
            )
        dispute = self._dispute_of(charge)
        if dispute is not None and not dispute["is_charge_refundable"]:
            raise invalid(
                f"Charge {charge['id']} has been charged back; it cannot be refunded.",
                code="charge_disputed",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = params.get("amount", remaining)
        if amount < 1:
            raise invalid(
                "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        money.check_step(amount, charge["currency"])
        if amount > remaining:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        kind = charge["payment_method_details"]["type"]
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "destination_details": {"type": kind, kind: {"type": "refund"}},
            "failure_reason": None,
            "metadata": merge_metadata({}, params.get("metadata") or {}),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            # A card refund succeeds at once in test mode; a bank debit's waits for the bank.
            "status": "succeeded" if kind == "card" else "pending",
        }
        refund["balance_transaction"] = self.balance.refunded(refund)
        self.store.add(refund)
        # Stripe counts a pending refund as refunded on the charge (it gives it back on
        # failure), so two refunds in flight cannot exceed the charge either.
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.store.emit("refund.created", refund, ctx)
        self.store.emit("charge.refunded", charge, ctx)
        if refund["status"] == "pending" and self.async_delay > 0:
            self._later(lambda: self._settle_refund_if_pending(refund["id"]))
        return refund

    def _settle_refund_if_pending(self, refund_id: str) -> None:
        refund = self.store.find("refund", refund_id)
        if refund is not None and refund["status"] == "pending":
            self.settle_refund(refund)

    def settle_refund(self, refund: dict) -> dict:
        """The bank paid a pending refund out (refund.updated, charge.refund.updated)."""
        if refund["status"] != "pending":
            raise unexpected_state(
                "refund_unexpected_state", f"This refund is {refund['status']}, not pending."
            )
        refund["status"] = "succeeded"
        changed = {"previous_attributes": {"status": "pending"}}
        self.store.emit("refund.updated", refund, **changed)
        self.store.emit("charge.refund.updated", refund, **changed)
        return refund

    def fail_refund(self, refund: dict, reason: str = "expired_or_canceled_card") -> dict:
        """The bank sent a refund back (Stripe's `refund.failed`)."""
        if refund["status"] not in ("succeeded", "pending"):
            raise unexpected_state(
                "refund_unexpected_state", f"This refund is {refund['status']}; it cannot fail."
            )
        previous = refund["status"]
        refund.update(
            status="failed",
            failure_reason=reason,
            failure_balance_transaction=self.balance.refund_failed(refund),
        )
        charge = self.store.get("charge", refund["charge"])
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        changed = {"previous_attributes": {"status": previous, "failure_reason": None}}
        self.store.emit("refund.failed", refund)
        self.store.emit("refund.updated", refund, **changed)
        self.store.emit("charge.refund.updated", refund, **changed)
        return refund

    # --- disputes ----------------------------------------------------------------------------
    def _dispute_of(self, charge: dict) -> dict | None:
        return next((d for d in self.store.of_type("dispute") if d["charge"] == charge["id"]), None)

    def charge_of(self, payment_id: str) -> dict:
        """The charge behind a payment named by its charge, PaymentIntent or Session id."""
        if payment_id.startswith("cs_"):
            session = self.store.get("checkout.session", payment_id)
            payment_id = session.get("payment_intent") or ""
        if payment_id.startswith("pi_"):
            intent = self.store.get("payment_intent", payment_id)
            payment_id = intent.get("latest_charge") or ""
        charge = self.store.get("charge", payment_id, param="payment")
        if charge["status"] != "succeeded":
            raise invalid(f"Charge {charge['id']} did not succeed: nothing to dispute.")
        return charge

    def open_dispute(self, charge: dict, reason: str = "fraudulent", amount=None) -> dict:
        if self._dispute_of(charge) is not None:
            raise invalid(f"Charge {charge['id']} already has a dispute.", code="charge_disputed")
        dispute = {
            "id": new_id("du"),
            "object": "dispute",
            "amount": amount or charge["amount_captured"] - charge["amount_refunded"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "evidence": {
                "customer_email_address": None,
                "product_description": None,
                "uncategorized_text": None,
            },
            "evidence_details": {
                "due_by": now() + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
        self.store.add(dispute)
        charge["disputed"] = True
        self.store.emit("charge.dispute.created", dispute)
        withdrawal = self.balance.dispute_withdrawn(dispute)
        dispute["balance_transactions"] = [self.store.render(withdrawal)]
        self.store.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def _check_open(self, dispute: dict) -> None:
        if dispute["status"] not in DISPUTE_OPEN:
            raise unexpected_state(None, f"This dispute is already closed ({dispute['status']}).")

    def update_dispute(self, dispute: dict, params: dict, ctx: RequestContext) -> dict:
        self._check_open(dispute)
        previous = {"status": dispute["status"]}
        if "metadata" in params:
            dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
        evidence = params.get("evidence") or {}
        if evidence:
            dispute["evidence"].update({k: (v or None) for k, v in evidence.items()})
            dispute["evidence_details"]["has_evidence"] = True
        if params.get("submit", True) and evidence:
            dispute["status"] = "under_review"
            dispute["evidence_details"]["submission_count"] += 1
        self.store.emit("charge.dispute.updated", dispute, ctx, previous_attributes=previous)
        return dispute

    def close_dispute(self, dispute: dict, ctx: RequestContext = AUTOMATIC) -> dict:
        """Accepting the dispute: the money stays with the card holder."""
        self._check_open(dispute)
        dispute["status"] = "lost"
        dispute["is_charge_refundable"] = False
        self.store.emit("charge.dispute.closed", dispute, ctx)
        return dispute

    def resolve_dispute(self, dispute: dict, won: bool) -> dict:
        """The bank decided (control API)."""
        self._check_open(dispute)
        dispute["status"] = "won" if won else "lost"
        self.store.emit("charge.dispute.closed", dispute)
        if won:
            reinstatement = self.balance.dispute_reinstated(dispute)
            dispute["balance_transactions"].append(self.store.render(reinstatement))
            self.store.emit("charge.dispute.funds_reinstated", dispute)
        return dispute
