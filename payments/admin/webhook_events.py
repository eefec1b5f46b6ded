"""The webhook inbox: events with their redacted payloads, and replay of failed ones
(payments.webhooks.replay)."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from observability.redaction import redact
from payments.admin.common import ReadOnlyAdmin
from payments.models import WebhookEvent
from payments.webhooks.replay import replay_events


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "stripe_event_id",
        "type",
        "status",
        "attempts",
        "short_error",
        "received_at",
        "handled_at",
    )
    list_filter = ("status", "source", "type")
    search_fields = ("=stripe_event_id", "=payment_intent_id", "=order_id")
    readonly_fields = (
        "stripe_event_id",
        "type",
        "source",
        "status",
        "attempts",
        "last_error",
        "received_at",
        "handled_at",
        "next_attempt_at",
        "livemode",
        "api_version",
        "order_id",
        "payment_intent_id",
        "payload_pretty",
    )
    fields = readonly_fields
    actions = ["replay"]
    show_full_result_count = False

    @admin.display(description="last error")
    def short_error(self, event):
        error = redact(event.last_error)
        return (error[:80] + "...") if len(error) > 80 else error

    @admin.display(description="payload (redacted)")
    def payload_pretty(self, event):
        # Redacted as logs are (observability.redaction): client secrets, e-mail addresses, keys and
        # card numbers are masked. format_html escapes: what Stripe or a shopper put in the
        # payload stays text.
        shown = redact(event.payload)
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, sort_keys=True))

    @admin.action(description="Replay selected failed or ignored events", permissions=["replay"])
    def replay(self, request, queryset):
        # The ids first: the changelist's filter (e.g. "failed") no longer matches a replayed
        # event, so the queryset must not be counted again afterwards.
        report = replay_events(list(queryset.values_list("pk", flat=True)))
        failed = any(e.status == WebhookEvent.Status.FAILED for e in report.replayed)
        self.message_user(
            request, report.message(), messages.WARNING if failed else messages.SUCCESS
        )

    def has_replay_permission(self, request):
        return request.user.has_perm("payments.replay_webhookevent")
