"""Stripe's events applied to our rows: one handler per event type (the event table of the
webhook docs), registered with @handles in the module of its Stripe object family.

A handler runs inside the processing transaction (payments.webhooks.processing). It finds
the rows the event is about and locks them in the fixed order order → attempt →
refund/dispute (lookup, payments.locks), then makes one call that moves them only through
their state machines (attempt_outcomes, refund_outcomes, dispute_outcomes), so a duplicate
or an older event changes nothing. What the news does to the order (paid, refunded,
disputed, in review, expired) is the orders app's to do: orders.payment_outcomes and
orders.services. A handler raises `WaitForDependency` when a row it needs is not there yet
(events out of order), `Ignore` when the event is about nothing of ours (registry).

The family modules are imported here so that importing the package fills the registry.
"""

from payments.handlers import (  # noqa: F401  (each registers its handlers)
    checkout_sessions,
    disputes,
    payment_intents,
    refunds,
)
