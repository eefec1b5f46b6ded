"""Disputes of a charge: opened, answered with evidence, accepted, won or lost.

A mixin of `Payments` (stripe_emulator.payments): it shares its store, and runs with the
store's lock held as everything there does.

Updating a dispute (`POST /v1/disputes/{id}`) merges the `evidence` hash into what is
staged (an empty string unsets a field) and, unless `submit=false`, submits everything
staged to the bank: `needs_response` becomes `under_review` (an inquiry's
`warning_needs_response` becomes `warning_under_review`) and
`evidence_details.submission_count` goes up. Evidence can be changed only while the
dispute still needs a response; metadata always. Each change is a `charge.dispute.updated`
event. Closing (`POST /v1/disputes/{id}/close`) accepts the dispute: it is `lost` (an
inquiry `warning_closed`), with a `charge.dispute.closed` event; the funds withdrawn when it
opened stay withdrawn, so no funds event follows.
"""

from stripe_emulator.errors import invalid, missing_resource, unexpected_state
from stripe_emulator.state import AUTOMATIC, RequestContext, merge_metadata, new_id, now

DISPUTE_OPEN = {"warning_needs_response", "needs_response", "under_review", "warning_under_review"}
# Where a response (evidence, or accepting) is still possible, and where submitting leads.
SUBMITTED = {"needs_response": "under_review", "warning_needs_response": "warning_under_review"}
ACCEPTED = {"needs_response": "lost", "warning_needs_response": "warning_closed"}

# Stripe's text evidence fields with their lengths (its API reference, `evidence[...]`).
TEXT_EVIDENCE = {
    "access_activity_log": 20000,
    "billing_address": 5000,
    "cancellation_policy_disclosure": 20000,
    "cancellation_rebuttal": 20000,
    "customer_email_address": 5000,
    "customer_name": 5000,
    "customer_purchase_ip": 5000,
    "duplicate_charge_explanation": 20000,
    "duplicate_charge_id": 5000,
    "product_description": 20000,
    "refund_policy_disclosure": 20000,
    "refund_refusal_explanation": 20000,
    "service_date": 5000,
    "shipping_address": 5000,
    "shipping_carrier": 5000,
    "shipping_date": 5000,
    "shipping_tracking_number": 5000,
    "uncategorized_text": 20000,
}
# The file evidence fields take the id of an uploaded file (the emulator has no Files API,
# so any id given is unknown, as an unknown file is at Stripe).
FILE_EVIDENCE = (
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
)
# "The combined character count of all fields is limited to 150,000."
EVIDENCE_TOTAL_LIMIT = 150_000


def empty_evidence() -> dict:
    evidence = {name: None for name in sorted([*TEXT_EVIDENCE, *FILE_EVIDENCE])}
    evidence["enhanced_evidence"] = {}
    return evidence


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

    def open_dispute(
        self,
        charge: dict,
        reason: str = "fraudulent",
        amount=None,
        *,
        inquiry: bool = False,
        due_by: int | None = None,
    ) -> dict:
        """The card holder disputes the charge (an `inquiry` asks first: no money moves)."""
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
            "enhanced_eligibility_types": [],
            "evidence": empty_evidence(),
            "evidence_details": {
                "due_by": due_by if due_by is not None else now() + 7 * 86400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": inquiry,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "payment_method_details": self._disputed_method(charge, reason, inquiry),
            "reason": reason,
            "status": "warning_needs_response" if inquiry else "needs_response",
        }
        self.store.add(dispute)
        charge["disputed"] = True
        self.store.emit("charge.dispute.created", dispute)
        if not inquiry:  # a chargeback takes the money at once; an inquiry does not
            withdrawal = self.balance.dispute_withdrawn(dispute)
            dispute["balance_transactions"] = [self.store.render(withdrawal)]
            self.store.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    @staticmethod
    def _disputed_method(charge: dict, reason: str, inquiry: bool) -> dict | None:
        if charge["payment_method_details"]["type"] != "card":
            return None  # Stripe details card (and wallet) disputes only, not bank debits
        return {
            "card": {
                "brand": charge["payment_method_details"]["card"]["brand"],
                "case_type": "inquiry" if inquiry else "chargeback",
                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
            },
            "type": "card",
        }

    def _check_open(self, dispute: dict) -> None:
        if dispute["status"] not in DISPUTE_OPEN:
            raise unexpected_state(None, f"This dispute is already closed ({dispute['status']}).")

    def _check_respondable(self, dispute: dict) -> None:
        self._check_open(dispute)
        if dispute["status"] not in SUBMITTED:
            raise unexpected_state(
                None,
                f"This dispute's evidence was already submitted ({dispute['status']}): "
                "it can no longer be changed.",
            )

    def _staged_evidence(self, dispute: dict, update: dict) -> dict:
        """The evidence with `update` merged in, checked as Stripe checks it."""
        evidence = {**dispute["evidence"]}
        for name, value in update.items():
            param = f"evidence[{name}]"
            if name == "enhanced_evidence":
                evidence[name] = {**(evidence.get(name) or {}), **(value or {})}
                continue
            if name in FILE_EVIDENCE and value:
                file = self.store.find("file", value)
                if file is None:
                    raise missing_resource("file", value, param)
            limit = TEXT_EVIDENCE.get(name)
            if limit is not None and len(value) > limit:
                raise invalid(
                    f"Invalid string: {value[:20]}...; must be at most {limit} characters",
                    code="parameter_invalid",
                    param=param,
                )
            evidence[name] = value or None  # an empty string unsets the field
        total = sum(len(evidence[name] or "") for name in TEXT_EVIDENCE)
        if total > EVIDENCE_TOTAL_LIMIT:
            raise invalid(
                f"The combined length of the evidence fields is {total} characters; "
                f"at most {EVIDENCE_TOTAL_LIMIT} are allowed.",
                code="parameter_invalid",
                param="evidence",
            )
        return evidence

    def update_dispute(self, dispute: dict, params: dict, ctx: RequestContext) -> dict:
        """Stage evidence (merged into what is there), submit it, or change metadata."""
        responding = "evidence" in params or "submit" in params
        if responding:
            self._check_respondable(dispute)
        before = {
            key: dispute[key] for key in ("evidence", "evidence_details", "metadata", "status")
        }
        details = dict(dispute["evidence_details"])
        if "evidence" in params:
            dispute["evidence"] = self._staged_evidence(dispute, params["evidence"] or {})
        if "metadata" in params:
            dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
        details["has_evidence"] = any(
            dispute["evidence"].get(name) for name in (*TEXT_EVIDENCE, *FILE_EVIDENCE)
        )
        if responding and params.get("submit", True):
            dispute["status"] = SUBMITTED[dispute["status"]]
            details["submission_count"] += 1
            details["past_due"] = bool(details["due_by"]) and now() > details["due_by"]
        dispute["evidence_details"] = details
        previous = {key: value for key, value in before.items() if dispute[key] != value}
        if previous:
            self.store.emit("charge.dispute.updated", dispute, ctx, previous_attributes=previous)
        return dispute

    def close_dispute(self, dispute: dict, ctx: RequestContext = AUTOMATIC) -> dict:
        """Accepting the dispute: the money stays with the card holder."""
        self._check_open(dispute)
        if dispute["status"] not in ACCEPTED:
            raise unexpected_state(
                None,
                f"This dispute is {dispute['status']}: its evidence was submitted, so it "
                "can no longer be accepted.",
            )
        dispute["status"] = ACCEPTED[dispute["status"]]
        dispute["is_charge_refundable"] = False
        self.store.emit("charge.dispute.closed", dispute, ctx)
        return dispute

    def resolve_dispute(self, dispute: dict, won: bool) -> dict:
        """The bank decided (control API), with or without evidence submitted. An inquiry
        simply ends (`warning_closed`): no money moved for it."""
        self._check_open(dispute)
        if dispute["status"].startswith("warning_"):
            dispute["status"] = "warning_closed"
            self.store.emit("charge.dispute.closed", dispute)
            return dispute
        dispute["status"] = "won" if won else "lost"
        self.store.emit("charge.dispute.closed", dispute)
        if won:
            reinstatement = self.balance.dispute_reinstated(dispute)
            dispute["balance_transactions"].append(self.store.render(reinstatement))
            self.store.emit("charge.dispute.funds_reinstated", dispute)
        return dispute
