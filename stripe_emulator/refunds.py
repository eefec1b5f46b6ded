"""Refunds of a charge: created, settled or failed later, and the events they emit.

A mixin of `Payments` (stripe_emulator.payments): it shares its store and timers, and runs
with the store's lock held as everything there does.
"""

from stripe_emulator import money, objects
from stripe_emulator.errors import invalid, unexpected_state
from stripe_emulator.state import RequestContext, merge_metadata, new_id, now


class Refunds:
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
        test = self.method(charge["payment_method"])
        # A card refund succeeds at once in test mode, but for pm_card_pendingRefund; a bank
        # debit's waits for the bank. pm_card_refundFail's succeeds, then fails later.
        pending = kind != "card" or test.refund == "pending"
        refund = objects.build(
            "refund",
            id=new_id("re"),
            amount=amount,
            charge=charge["id"],
            created=now(),
            currency=charge["currency"],
            destination_details=_destination_details(kind),
            metadata=merge_metadata({}, params.get("metadata") or {}),
            payment_intent=charge["payment_intent"],
            payment_method=charge["payment_method"],
            reason=params.get("reason"),
            status="pending" if pending else "succeeded",
        )
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
        if test.refund == "fail" and self.async_delay > 0:
            self._later(lambda: self._fail_refund_if_succeeded(refund["id"]))
        return refund

    def _fail_refund_if_succeeded(self, refund_id: str) -> None:
        refund = self.store.find("refund", refund_id)
        if refund is not None and refund["status"] == "succeeded":
            self.fail_refund(refund, "expired_or_canceled_card")

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


def _destination_details(kind: str) -> dict:
    """Where the money goes back: the card, or a bank transfer for a bank debit."""
    if kind == "card":
        return {"type": "card", "card": {"type": "refund"}}
    return {
        "type": "us_bank_transfer",
        "us_bank_transfer": {"reference": None, "reference_status": "pending"},
    }
