from django import forms
from django.contrib import admin

from catalog.models import MAX_UNIT_AMOUNT, Product
from catalog.money import format_amount, major_units, minor_units


class ProductAdminForm(forms.ModelForm):
    """Staff type the price as it is written ("12.50", "1800" yen, "1.230" dinars); it is
    stored in minor units (1250), exactly, within the currency's rules."""

    price = forms.DecimalField(
        max_digits=14,
        help_text="In the currency's units, e.g. 12.50 USD, 1800 JPY, 1.230 KWD.",
    )

    class Meta:
        model = Product
        fields = ("sku", "name", "description", "price", "currency", "stock", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        product = self.instance
        if product.pk and product.unit_amount is not None:
            self.initial["price"] = major_units(product.unit_amount, product.currency)

    def clean(self):
        data = super().clean()
        price, currency = data.get("price"), data.get("currency")
        if price is None or not currency:
            return data
        try:
            amount = minor_units(price, currency)
        except ValueError as exc:
            self.add_error("price", forms.ValidationError(str(exc), code="invalid_amount"))
            return data
        if amount < 1:
            self.add_error("price", forms.ValidationError("Enter a price above zero."))
        elif amount > MAX_UNIT_AMOUNT:
            self.add_error(
                "price",
                f"At most {format_amount(MAX_UNIT_AMOUNT, currency)} (a larger price could "
                "not be charged).",
            )
        else:
            self.instance.unit_amount = amount
        return data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "price_display", "stock", "reserved", "sold", "active")
    list_filter = ("active", "currency")
    search_fields = ("sku", "name")
    readonly_fields = ("reserved", "sold", "created_at", "updated_at")

    @admin.display(description="price", ordering="unit_amount")
    def price_display(self, product):
        return format_amount(product.unit_amount, product.currency)
