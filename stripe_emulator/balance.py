"""Balance transactions: the money each charge, refund and dispute moves on the account.

Stripe records one when money moves, not when a payment is authorised: a charge gets its
`balance_transaction` when it is captured (at once for automatic capture, at capture for
`capture_method=manual`, when the bank pays for a debit), a refund when it is made, a
failed refund a `failure_balance_transaction`, and a dispute one per withdrawal or
reinstatement, embedded whole in `dispute.balance_transactions`.

Fees follow Stripe's US standard pricing, close enough for a test to see `net` differ from
`amount`: cards 2.9% + 30, bank debits 0.8% capped at 500, a dispute 1500. A charge's funds
are `pending` until `available_on` (two days later, as in test mode) and stay so here: the
emulator's runs are shorter than that. Refunds and dispute adjustments take money from the
available balance at once.
"""

from stripe_emulator.state import Store, new_id, now

PENDING_DAYS = 2
DISPUTE_FEE = 1500


def processing_fee(amount: int, payment_method_type: str) -> int:
    if payment_method_type == "card":
        return round(amount * 0.029) + 30
    return min(round(amount * 0.008), 500)


class Balance:
    def __init__(self, store: Store):
        self.store = store

    def record(
        self,
        source: dict,
        amount: int,
        type_: str,
        reporting_category: str,
        *,
        fee: int = 0,
        fee_description: str = "Stripe processing fees",
        available_in_days: int = 0,
        description: str | None = None,
    ) -> dict:
        created = now()
        transaction = {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": created + available_in_days * 86400,
            "balance_type": "payments",
            "created": created,
            "currency": source["currency"],
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": source["currency"],
                        "description": fee_description,
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": amount - fee,
            "reporting_category": reporting_category,
            "source": source["id"],
            "status": "pending" if available_in_days else "available",
            "type": type_,
        }
        self.store.add(transaction)
        return transaction

    def charge_captured(self, charge: dict) -> str:
        kind = charge["payment_method_details"]["type"]
        transaction = self.record(
            charge,
            charge["amount_captured"],
            "charge" if kind == "card" else "payment",
            "charge",
            fee=processing_fee(charge["amount_captured"], kind),
            available_in_days=PENDING_DAYS,
            description=charge.get("description"),
        )
        return transaction["id"]

    def refunded(self, refund: dict) -> str:
        transaction = self.record(refund, -refund["amount"], "refund", "refund")
        return transaction["id"]

    def refund_failed(self, refund: dict) -> str:
        transaction = self.record(
            refund,
            refund["amount"],
            "refund_failure",
            "refund_failure",
            description="REFUND FOR FAILED REFUND",
        )
        return transaction["id"]

    # A dispute embeds its balance transactions whole (they never change afterwards here).
    def dispute_withdrawn(self, dispute: dict) -> dict:
        return self.record(
            dispute,
            -dispute["amount"],
            "adjustment",
            "dispute",
            fee=DISPUTE_FEE,
            fee_description="Dispute fee",
            description=f"Chargeback withdrawal for {dispute['charge']}",
        )

    def dispute_reinstated(self, dispute: dict) -> dict:
        return self.record(
            dispute,
            dispute["amount"],
            "adjustment",
            "dispute_reversal",
            description=f"Chargeback reversal for {dispute['charge']}",
        )
