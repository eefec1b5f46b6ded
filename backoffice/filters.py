"""The order list's filters."""

from django.contrib import admin

from catalog.models import Product
from orders.models import OrderStatus


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("needs_review", "Needs review"), ("disputed", "Disputed or charged back")]

    def queryset(self, request, queryset):
        if self.value() == "needs_review":
            return queryset.filter(status=OrderStatus.NEEDS_REVIEW)
        if self.value() == "disputed":
            return queryset.filter(status__in=[OrderStatus.DISPUTED, OrderStatus.CHARGED_BACK])
        return queryset


class CurrencyFilter(admin.SimpleListFilter):
    """The catalog's currencies (orders are priced from it): no DISTINCT over every order."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        currencies = Product.objects.order_by("currency").values_list("currency", flat=True)
        return [(c, c.upper()) for c in currencies.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(currency=self.value()) if self.value() else queryset
