from django.conf import settings
from django.db import models


class OutboxEmail(models.Model):
    """An e-mail decided inside a transaction and committed with it, sent afterwards.

    A worker that dies between the commit and the send leaves the row unsent and the sweep
    sends it: receipts and alerts are never lost. Sending is at least once; the Message-ID
    is stable, so the rare repeat (a death between the mail server's answer and our
    commit) is recognisably the same message.
    """

    kind = models.CharField(max_length=32)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        # The name from when payments held the model: the rows stay where they are.
        db_table = "payments_outboxemail"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_email_unsent",
            ),
            # The outbox's admin list, newest first (one e-mail or more per order).
            models.Index(fields=["created_at"], name="outbox_email_created"),
        ]
        permissions = [("resend_outboxemail", "Can resend e-mails from the outbox")]

    def __str__(self):
        return f"{self.kind}: {self.subject}"

    @property
    def message_id(self) -> str:
        return f"<outbox-{self.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
