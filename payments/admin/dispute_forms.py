"""The forms of the dispute response page: the evidence (Stripe's text fields, checked
against Stripe's limits) and accepting the dispute. Each carries the id of its submission,
which becomes the Stripe idempotency key `dispute-<uuid>`."""

from django import forms

from payments.disputes import evidence


class EvidenceForm(forms.Form):
    request_id = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Text Stripe holds in evidence fields this form does not show (entered in Stripe's
    # dashboard): it counts towards the 150,000 characters too. Stripe checks it again.
    staged_elsewhere = forms.IntegerField(
        required=False, min_value=0, initial=0, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, limit, long_text in evidence.FIELDS:
            widget = forms.Textarea(attrs={"rows": 3, "cols": 80}) if long_text else None
            self.fields[name] = forms.CharField(
                label=label, required=False, max_length=limit, strip=False, widget=widget
            )

    def evidence_fields(self):
        return [self[name] for name in evidence.NAMES]

    def clean(self):
        data = super().clean()
        total = evidence.total_length(data) + (data.get("staged_elsewhere") or 0)
        if total > evidence.TOTAL_LIMIT:
            raise forms.ValidationError(
                f"Stripe takes at most {evidence.TOTAL_LIMIT:,} characters of evidence in all; "
                f"this is {total:,}.",
                code="evidence_too_long",
            )
        return data

    def evidence(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in evidence.NAMES}


class AcceptForm(forms.Form):
    request_id = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
