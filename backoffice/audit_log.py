"""The audit log as staff read it: one sentence per entry, in order numbers and money.

"Refund of 5.00 USD on order ORD-7K2M9QXP by staff@example.com (reason: Damaged)", the
order number linking to the order. The audit app's own admin (audit/admin.py) shows the
raw row; it cannot name orders (audit sits below orders and holds plain ids), so the back
office, which spans apps, registers this one in its place. It stays read-only for
everybody: no add, change or delete.
"""

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html

from audit.admin import AuditEntryAdmin
from audit.models import AuditEntry
from catalog.money import format_amount
from orders.models import Order

# What happened, with "{amount}" where the entry's money goes.
PHRASES = {
    "order.created": "Order of {amount} placed",
    "order.cancelled": "Order of {amount} cancelled",
    "order.expired": "Order of {amount} expired unpaid",
    "order.fulfilled": "Order marked fulfilled",
    "order.needs_review": "Order of {amount} put in review",
    "payment_attempt.created": "Payment of {amount} started",
    "payment_attempt.canceled": "Payment of {amount} canceled",
    "payment.succeeded": "Payment of {amount} succeeded",
    "payment.failed": "Payment of {amount} failed",
    "refund.requested": "Refund of {amount}",
    "refund.request": "Refund of {amount}",
    "refund.created": "Refund of {amount} sent to Stripe",
    "refund.updated": "Refund of {amount} updated by Stripe",
    "refund.failed": "Refund of {amount} failed",
    "order.fulfil": "Mark fulfilled",
    "order.cancel": "Cancellation",
    "dispute.opened": "Dispute of {amount} opened",
    "dispute.closed": "Dispute of {amount} closed",
    "dispute.evidence_draft": "Dispute evidence saved as a draft at Stripe",
    "dispute.evidence_submit": "Dispute evidence submitted to the bank",
    "dispute.accept": "Dispute accepted (lost)",
    "order.exported": "Orders exported as CSV",
    "refund.exported": "Refunds exported as CSV",
    "dispute.exported": "Disputes exported as CSV",
    "email.resent": "E-mail resent",
    "reconciliation.fixed": "Reconciliation fixed a difference",
    "reconciliation.acknowledged": "Reconciliation difference marked resolved",
}
OUTCOME_WORDS = {AuditEntry.Outcome.REFUSED: "refused", AuditEntry.Outcome.FAILED: "failed"}


def phrase(entry: AuditEntry) -> str:
    amount = (
        format_amount(entry.amount, entry.currency)
        if entry.amount is not None and entry.currency
        else ""
    )
    template = PHRASES.get(entry.action)
    if template is None:
        template = entry.action.replace(".", " ").replace("_", " ").capitalize()
        template += " of {amount}" if amount else ""
    elif not amount:
        template = template.replace(" of {amount}", "")
    return template.format(amount=amount)


def sentence(entry: AuditEntry, order_number: str | None):
    """The entry in words, the order number linked; everything escaped."""
    details = entry.details if isinstance(entry.details, dict) else {}
    reason = details.get("reason")
    outcome = OUTCOME_WORDS.get(entry.outcome)
    code = details.get("code")
    return format_html(
        "{}{}{}{}{}",
        phrase(entry),
        format_html(
            ' on order <a href="{}">{}</a>',
            reverse("admin:orders_order_change", args=[entry.order_id]),
            order_number or f"#{entry.order_id}",
        )
        if entry.order_id is not None
        else "",
        f" by {entry.actor_label}" if entry.actor_label else "",
        f" (reason: {reason})" if isinstance(reason, str) and reason else "",
        f": {outcome}{f' ({code})' if code else ''}" if outcome else "",
    )


class AuditLogAdmin(AuditEntryAdmin):
    list_display = ("created_at", "what", "action", "outcome")
    list_display_links = ("created_at",)

    def get_queryset(self, request):
        # One primary-key lookup per shown row, not a join over every order.
        number = Order.objects.filter(pk=OuterRef("order_id")).values("number")[:1]
        return super().get_queryset(request).annotate(order_number=Subquery(number))

    def get_readonly_fields(self, request, obj=None):
        return ["what", *super().get_readonly_fields(request, obj)]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description="what happened")
    def what(self, entry):
        return sentence(entry, getattr(entry, "order_number", None))


def register(site: admin.AdminSite = admin.site) -> None:
    if site.is_registered(AuditEntry):
        site.unregister(AuditEntry)
    site.register(AuditEntry, AuditLogAdmin)
