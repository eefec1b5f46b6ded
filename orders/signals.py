"""What orders announce to the apps above them (payments listens; orders imports nobody)."""

from django.dispatch import Signal

# Sent inside the transaction that cancelled or expired an unpaid order: args `order`.
order_closed_unpaid = Signal()
