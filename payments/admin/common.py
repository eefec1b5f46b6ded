"""What the payments screens, and the back office's order screen, share."""

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html

from audit.services import record_refusal
from catalog.money import format_amount
from core.errors import ShopError


def money_display(field: str, description: str | None = None, currency: str = "currency"):
    """A read-only admin column or field showing `field` (minor units) as every admin page
    shows money: catalog.money.format_amount, "61.00 USD", "500 JPY", "1.230 KWD".

    `field` and `currency` name attributes of the row, dotted for a related row
    ("attempt.amount", "order.currency").
    """

    def get(obj, dotted):
        for name in dotted.split("."):
            obj = getattr(obj, name)
        return obj

    label = description or field.rsplit(".", 1)[-1].replace("_", " ")

    @admin.display(description=label, ordering=field.replace(".", "__"))
    def show(self, obj):
        amount = get(obj, field)
        return "-" if amount is None else format_amount(amount, get(obj, currency))

    return show


def dashboard_link(kind: str, stripe_id: str | None):
    """A link to the object in Stripe's dashboard (test or live, from the key in use)."""
    if not stripe_id:
        return "-"
    paths = {
        "payment_intent": "payments",
        "checkout_session": "checkout/sessions",
        "refund": "refunds",
        "dispute": "disputes",
    }
    return format_html(
        '<a href="{}/{}/{}" target="_blank" rel="noopener">{}</a>',
        settings.STRIPE_DASHBOARD_URL,
        paths[kind],
        stripe_id,
        stripe_id,
    )


def audit_refusal(exc: ShopError) -> None:
    """A service's refusal, recorded after its rollback exactly as the API's error handler
    records it (api.errors.api_exception_handler): staff refusals leave the same trace."""
    if exc.audit:
        record_refusal(exc.audit, exc.code)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
