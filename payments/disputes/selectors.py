"""What is staged at Stripe for a dispute, to prefill the staff's evidence form."""

from core.errors import ShopError
from payments.disputes import evidence as evidence_fields
from payments.gateway import client as stripe_client
from payments.models import Dispute


def staged_evidence(dispute: Dispute) -> dict | None:
    """The text evidence Stripe holds for the dispute (a draft saved here or in Stripe's
    dashboard), with `staged_elsewhere`: the length of the text in fields this form does not
    show, which counts towards Stripe's limit too. None when Stripe cannot be asked now."""
    try:
        answer = stripe_client.call(
            "disputes.retrieve", lambda c: c.v1.disputes.retrieve(dispute.stripe_dispute_id)
        ).to_dict(for_json=True)
    except ShopError:
        return None
    staged = answer.get("evidence") or {}
    shown = {name: staged.get(name) or "" for name in evidence_fields.NAMES}
    elsewhere = sum(
        len(value)
        for name, value in staged.items()
        if name not in shown and isinstance(value, str) and not value.startswith("file_")
    )
    return {**shown, "staged_elsewhere": elsewhere}
