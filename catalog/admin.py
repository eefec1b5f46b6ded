from django.contrib import admin

from catalog.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "unit_amount", "currency", "stock", "reserved", "sold", "active")
    list_filter = ("active", "currency")
    search_fields = ("sku", "name")
    readonly_fields = ("reserved", "sold", "created_at", "updated_at")
