"""The staff refund form (the order screen's Refund page)."""

from django import forms

from audit.models import AuditEntry
from audit.services import record
from catalog.money import major_units, minor_units


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        min_value=0, decimal_places=3, help_text="In the order's currency, e.g. 12.50"
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    request_id = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self):
        """The decimal typed in major units → minor units, exactly (no float), within the
        currency's rules: 1.235 KWD or 5.50 ISK is refused here, as Stripe would."""
        try:
            amount = minor_units(self.cleaned_data["amount"], self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_amount") from None
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount

    def audit_refusal(self, *, staff_user, order) -> None:
        """An amount refused for the currency's rules is audited as the service's own
        refusal is (`refund.request`, refused, `invalid_amount`)."""
        if self.has_error("amount", "invalid_amount"):
            record(
                "refund.request",
                actor=staff_user,
                obj=order,
                order=order,
                currency=order.currency,
                outcome=AuditEntry.Outcome.REFUSED,
                details={"code": "invalid_amount", "entered": str(self.data.get("amount"))[:40]},
            )


def major(amount: int, currency: str) -> str:
    """Minor units as the decimal the form shows (5000 EUR -> "50.00")."""
    return str(major_units(amount, currency))
