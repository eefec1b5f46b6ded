"""The webhook inbox: events with their redacted payloads, and replay of failed ones."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from observability.redaction import redact
from payments.admin.common import ReadOnlyAdmin
from payments.models import WebhookEvent
from payments.webhooks import processing


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
        chosen = list(
            queryset.filter(
                status__in=[WebhookEvent.Status.FAILED, WebhookEvent.Status.IGNORED]
            ).values_list("pk", flat=True)
        )
        processing.reopen(WebhookEvent.objects.filter(pk__in=chosen))
        for pk in chosen:
            processing.process(pk)
        results = dict(
            WebhookEvent.objects.filter(pk__in=chosen).values_list("stripe_event_id", "status")
        )
        skipped = queryset.count() - len(chosen)
        summary = ", ".join(f"{evt}: {status}" for evt, status in sorted(results.items()))
        self.message_user(
            request,
            f"Replayed {len(chosen)} event(s). {summary}"
            + (f" ({skipped} skipped: only failed or ignored events replay)" if skipped else ""),
            messages.SUCCESS,
        )

    def has_replay_permission(self, request):
        return request.user.has_perm("payments.replay_webhookevent")
