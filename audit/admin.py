from django.contrib import admin

from audit.models import AuditEntry


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
    list_filter = ("action", "outcome", "created_at")
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
