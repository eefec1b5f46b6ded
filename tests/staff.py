"""Staff in the back office: a staff user with given permissions, and the refund form's two
steps (fill in, then confirm), then Stripe confirming the refund by webhook."""

import uuid

from django.contrib.auth.models import Permission

from payments.models import Refund
from tests import stripe_events as se
from tests.factories import UserFactory


def staff_with(*codenames):
    """A staff member with these permissions: "app_label.codename", or a bare codename for
    the shop's own apps (never dj-stripe's models of the same name: Dispute, Refund, ...)."""
    user = UserFactory(is_staff=True)
    chosen = Permission.objects.none()
    for name in codenames:
        app_label, _, codename = name.rpartition(".")
        found = Permission.objects.filter(codename=codename)
        found = (
            found.filter(content_type__app_label=app_label)
            if app_label
            else found.exclude(content_type__app_label="djstripe")
        )
        assert found.count() == 1, f"{name} names {found.count()} permissions"
        chosen = chosen | found
    user.user_permissions.set(chosen)
    return user


def refund_url(order):
    return f"/admin/orders/order/{order.pk}/refund/"


def submit_refund(client, order, amount, request_id=None, reason="Damaged in transit"):
    """Fill the form, then confirm: the two steps a staff member goes through."""
    request_id = request_id or str(uuid.uuid4())
    first = client.post(
        refund_url(order), {"amount": amount, "reason": reason, "request_id": request_id}
    )
    assert first.status_code == 200, first.content
    assert b"confirm-text" in first.content, first.content.decode()[-2000:]
    return client.post(
        refund_url(order),
        {"amount": amount, "reason": reason, "request_id": request_id, "confirmed": "True"},
    )


def confirm_at_stripe(send_event, stripe_fake, refund_id=None):
    refund = (
        Refund.objects.get(stripe_refund_id=refund_id) if refund_id else Refund.objects.latest("id")
    )
    send_event(
        se.event(
            "refund.updated",
            se.refund(
                refund.attempt.stripe_payment_intent_id,
                amount=refund.amount,
                refund_id=refund.stripe_refund_id,
                metadata={"refund_uuid": str(refund.idempotency_uuid)},
            ),
        )
    )
