"""Time in a payment's life: a card authorization that expires uncaptured, and the bank's
delay before a debit or its refund settles.

A mixin of `Payments` (stripe_emulator.payments), like refunds and disputes: its timers
(stripe_emulator/timers.py) run in the emulator's time, or in the customer's test clock's
time when the work was done for such a customer.
"""

from stripe_emulator.state import AUTOMATIC, now

# Stripe's validity window for an online (customer-initiated) card authorization.
AUTHORIZATION_WINDOW = 7 * 24 * 60 * 60


class Authorizations:
    def _hold(self, intent: dict, charge: dict) -> None:
        """A manual-capture card payment is authorized: it must be captured before
        `payment_method_details.card.capture_before`, or the hold is released."""
        card = charge["payment_method_details"].get("card")
        if card is None:
            return
        card["capture_before"] = now() + AUTHORIZATION_WINDOW
        intent_id = intent["id"]
        self.timers.at(card["capture_before"], lambda: self.expire_authorization(intent_id))

    def expire_authorization(self, intent_id: str) -> None:
        """Not captured in time: the charge expires (`charge.expired`, funds released) and
        the PaymentIntent is canceled with `cancellation_reason=automatic`."""
        intent = self.store.find("payment_intent", intent_id)
        if intent is None or intent["status"] != "requires_capture":
            return  # captured or canceled meanwhile
        charge = self.store.get("charge", intent["latest_charge"])
        charge.update(refunded=True, amount_refunded=charge["amount"])
        self.store.emit("charge.expired", charge)
        self.cancel_intent(intent, {"cancellation_reason": "automatic"}, AUTOMATIC)

    def _later(self, action, extra_seconds: float = 0) -> None:
        """Run `action` after the bank's delay (`--async-delay-seconds`), in this work's time,
        plus `extra_seconds` for the slower test methods (the delayed SEPA IBANs)."""
        self.timers.after(self.async_delay + extra_seconds, action)
