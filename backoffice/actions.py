"""The order list's bulk actions: mark fulfilled, cancel pending, export (CSV).

Each order goes through the same orders service as the order page's button, one order and
one transaction at a time, so each is locked, checked and audited exactly as a single
order is; an order the service refuses is skipped, its refusal recorded as the page
records it, and the message says how many were done and why the others were skipped.
"""

from collections import Counter

from django.contrib import admin, messages

from core.errors import ShopError
from orders import services as order_services
from payments.admin.common import audit_refusal

# A run calls Stripe for each cancelled order: a request must end in reasonable time.
BULK_LIMIT = 100


class OrderBulkActions:
    def has_fulfil_permission(self, request) -> bool:
        return request.user.has_perm("orders.fulfil_order")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.action(description="Mark selected fulfilled", permissions=["fulfil"])
    def fulfil_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            "marked fulfilled",
            lambda pk: order_services.mark_fulfilled(order_id=pk, staff_user=request.user),
        )

    @admin.action(description="Cancel selected pending orders", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            "cancelled",
            lambda pk: order_services.cancel_order(user=request.user, order_id=pk, as_staff=True),
        )

    def _each(self, request, queryset, done_verb: str, act) -> None:
        chosen = list(queryset.order_by("pk").values_list("pk", flat=True)[: BULK_LIMIT + 1])
        if len(chosen) > BULK_LIMIT:
            self.message_user(
                request,
                f"Select at most {BULK_LIMIT} orders at a time; nothing was changed.",
                messages.ERROR,
            )
            return
        done, skipped = 0, Counter()
        for pk in chosen:
            try:
                act(pk)
            except ShopError as exc:
                audit_refusal(exc)
                skipped[exc.message] += 1
            else:
                done += 1
        level = messages.SUCCESS if done and not skipped else messages.WARNING
        text = f"{done} order(s) {done_verb}."
        if skipped:
            reasons = "; ".join(f"{why} ({n})" for why, n in sorted(skipped.items()))
            text += f" {sum(skipped.values())} skipped: {reasons}"
        self.message_user(request, text, level)
