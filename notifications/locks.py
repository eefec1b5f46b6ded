"""The one lock the outbox takes: a sender *claims* a row with SKIP LOCKED.

It stands outside the lock order of orders and payments (`orders.locks`): a sender holds
nothing else, and never waits for another sender: a row someone is sending is skipped.
"""

from core import rows
from notifications.models import OutboxEmail


def claim_unsent_email(pk: int) -> OutboxEmail | None:
    """The outbox row, still unsent, unless another worker is sending it (SKIP LOCKED)."""
    return rows.first(OutboxEmail, "id = %s AND sent_at IS NULL", [pk], lock=True, skip_locked=True)


def claim_email(pk: int) -> OutboxEmail | None:
    """The outbox row, sent or not, unless a sender or another resend holds it (SKIP
    LOCKED): a resend never waits for, nor runs beside, a send of the same e-mail."""
    return OutboxEmail.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
