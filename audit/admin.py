from django.contrib import admin

from audit.models import AuditEntry

SYSTEM_ACTORS = ["stripe", "system", "reconcile"]


class ActorFilter(admin.SimpleListFilter):
    """Who acted: Stripe, the system, staff or shoppers; `?actor=<user id>` for one person."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        return [
            ("stripe", "Stripe"),
            ("system", "System and reconciliation"),
            ("staff", "Staff members"),
            ("shoppers", "Shoppers"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "stripe":
            return queryset.filter(actor_label="stripe")
        if value == "system":
            return queryset.filter(actor__isnull=True).exclude(actor_label="stripe")
        if value == "staff":
            return queryset.filter(actor__is_staff=True)
        if value == "shoppers":
            return queryset.filter(actor__isnull=False, actor__is_staff=False)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


class OrderFilter(admin.SimpleListFilter):
    """One order's trail: `?order=<order id>` (the order page links here)."""

    title = "order"
    parameter_name = "order"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"Order {value}")] if value and value.isdigit() else []

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(order_id=int(value))
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everybody, superusers included: the trail is evidence."""

    list_display = (
        "created_at",
        "action",
        "outcome",
        "actor_label",
        "order_id",
        "amount",
        "currency",
        "request_id",
    )
    list_filter = ("action", ActorFilter, OrderFilter, "outcome", "created_at")
    search_fields = ("action", "actor_label", "object_id", "request_id", "=order_id")
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
