"""What orders announce to the apps above them (payments listens; orders imports nobody)."""

from django.dispatch import Signal

# Sent inside the transaction that cancels or expires an unpaid order, with the order
# locked: args `order`, `actor` (a user or None). A receiver that raises stops the change.
order_closed_unpaid = Signal()
