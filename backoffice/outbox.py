"""The e-mail outbox for staff: what was sent, what failed and why, and resending.

It lives in the back office because a resend is audited, and notifications (the outbox's
owner) sits beside audit in the layers, so it may not import it. The admin URLs stay the
model's (/admin/notifications/outboxemail/). Resending goes through
`notifications.services.requeue`, which claims the row as the senders do: an e-mail never
goes out twice at once. Bodies are shown redacted (observability.redaction), as the
webhook payloads are: a link or a token in an e-mail is not for staff to copy.
"""

from django.contrib import admin, messages
from django.db import connection
from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import format_html

from audit.services import record
from backoffice.pagination import EstimatedCountPaginator
from notifications import services as outbox
from notifications.models import OutboxEmail
from observability.redaction import redact
from payments.admin.common import ReadOnlyAdmin

RESEND_LIMIT = 500  # e-mails per resend, so a request ends in reasonable time

STATUSES = {
    "sent": ("Sent", Q(sent_at__isnull=False)),
    "queued": ("Queued (not tried yet)", Q(sent_at__isnull=True, attempts=0)),
    "retrying": (
        "Failed, retrying",
        Q(sent_at__isnull=True, attempts__gt=0, attempts__lt=outbox.MAX_SEND_ATTEMPTS),
    ),
    "given_up": (
        "Failed, retries used up",
        Q(sent_at__isnull=True, attempts__gte=outbox.MAX_SEND_ATTEMPTS),
    ),
}


def status_of(email: OutboxEmail) -> str:
    if email.sent_at is not None:
        return "sent"
    if email.attempts == 0:
        return "queued"
    return "retrying" if email.attempts < outbox.MAX_SEND_ATTEMPTS else "given_up"


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in STATUSES.items()]

    def queryset(self, request, queryset):
        if self.value() in STATUSES:
            return queryset.filter(STATUSES[self.value()][1])
        return queryset


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "status",
        "recipient",
        "subject",
        "kind",
        "attempts",
        "short_error",
        "sent_at",
    )
    list_filter = (StatusFilter, "kind")
    search_fields = ("subject", "recipients")
    search_help_text = "An order id, words of the subject, or an exact recipient address."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = (
        "kind",
        "status",
        "order_link",
        "recipient",
        "subject",
        "body_redacted",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "message_id",
    )
    fields = readonly_fields
    actions = ["resend_failed", "resend_including_sent"]

    @admin.display(description="status")
    def status(self, email):
        return STATUSES[status_of(email)][0]

    @admin.display(description="recipient")
    def recipient(self, email):
        return ", ".join(email.recipients)

    @admin.display(description="last error")
    def short_error(self, email):
        error = redact(email.last_error)
        return (error[:80] + "...") if len(error) > 80 else error

    @admin.display(description="order")
    def order_link(self, email):
        if email.order_id is None:
            return "-"
        url = reverse("admin:orders_order_change", args=[email.order_id])
        return format_html('<a href="{}">order {}</a>', url, email.order_id)

    @admin.display(description="body (redacted)")
    def body_redacted(self, email):
        return format_html("<pre>{}</pre>", redact(email.body))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term and connection.features.supports_json_field_contains:
            # a recipient: JSON containment of the exact address (PostgreSQL)
            exact = Q(recipients__contains=[term]) | Q(recipients__contains=[term.lower()])
            return queryset.filter(exact), False
        if term.isdigit():
            return queryset.filter(order_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.resend_outboxemail")

    @admin.action(description="Resend selected failed e-mails", permissions=["resend"])
    def resend_failed(self, request, queryset):
        self._resend(request, queryset, include_sent=False)

    @admin.action(
        description="Resend selected e-mails, including ones already sent",
        permissions=["resend"],
    )
    def resend_including_sent(self, request, queryset):
        self._resend(request, queryset, include_sent=True)

    def _resend(self, request, queryset, *, include_sent: bool) -> None:
        chosen = list(queryset.order_by(F("pk")).values_list("pk", flat=True)[: RESEND_LIMIT + 1])
        if len(chosen) > RESEND_LIMIT:
            self.message_user(
                request,
                f"Select at most {RESEND_LIMIT} e-mails at a time; nothing was resent.",
                messages.ERROR,
            )
            return
        outcomes = {outbox.Resend.QUEUED: 0, outbox.Resend.BUSY: 0, outbox.Resend.ALREADY_SENT: 0}
        for pk in chosen:
            outcome, before = outbox.requeue(pk, include_sent=include_sent)
            outcomes[outcome] += 1
            if outcome != outbox.Resend.QUEUED:
                continue
            record(
                "email.resent",
                actor=request.user,
                obj=OutboxEmail(pk=pk),
                order=before["order_id"],
                details={"email": pk, **before},
            )
        text = f"{outcomes[outbox.Resend.QUEUED]} e-mail(s) queued to be sent again."
        if outcomes[outbox.Resend.ALREADY_SENT]:
            text += (
                f" {outcomes[outbox.Resend.ALREADY_SENT]} skipped: already sent (use "
                '"including ones already sent" to send again).'
            )
        if outcomes[outbox.Resend.BUSY]:
            text += f" {outcomes[outbox.Resend.BUSY]} skipped: being sent right now."
        skipped = outcomes[outbox.Resend.ALREADY_SENT] + outcomes[outbox.Resend.BUSY]
        self.message_user(request, text, messages.WARNING if skipped else messages.SUCCESS)
