"""Disputes of a charge: opened, answered with evidence, closed, won or lost.

A mixin of `Payments` (stripe_emulator.payments): it shares its store, and runs with the
store's lock held as everything there does.
"""

from stripe_emulator.errors import invalid, unexpected_state
from stripe_emulator.state import AUTOMATIC, RequestContext, merge_metadata, new_id, now

DISPUTE_OPEN = {"warning_needs_response", "needs_response", "under_review", "warning_under_review"}


class Disputes:
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
