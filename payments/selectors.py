from django.db.models import Prefetch

from payments.models import PaymentAttempt, StripeCustomer

# Attribute the order list's prefetch fills (newest attempt first); see summary_prefetch.
PREFETCHED_ATTEMPTS = "attempts_newest_first"


def summary_prefetch() -> Prefetch:
    """What payment_summary reads, for a whole list of orders in one query."""
    return Prefetch(
        "payment_attempts",
        queryset=PaymentAttempt.objects.order_by("-number"),
        to_attr=PREFETCHED_ATTEMPTS,
    )


def latest_attempt(order) -> PaymentAttempt | None:
    return PaymentAttempt.objects.filter(order=order).order_by("-number").first()


def payment_summary(order) -> dict | None:
    # Read-only display: the list's prefetch when there is one (services that act on the
    # latest attempt always ask the database, never a possibly stale prefetched list).
    prefetched = getattr(order, PREFETCHED_ATTEMPTS, None)
    if prefetched is not None:
        attempt = prefetched[0] if prefetched else None
    else:
        attempt = latest_attempt(order)
    if attempt is None:
        return None
    return {
        "status": attempt.status,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "amount_refunded": attempt.amount_refunded,
        "failure_message": attempt.failure_message,
    }


def stripe_mirror(order) -> list:
    """dj-stripe's copies of the Stripe objects behind an order: Stripe's side, for staff."""
    from djstripe import models as djstripe_models

    attempts = list(order.payment_attempts.all())
    wanted = [
        (
            djstripe_models.Customer,
            list(
                StripeCustomer.objects.filter(user_id=order.user_id).values_list(
                    "stripe_customer_id", flat=True
                )
            ),
        ),
        (djstripe_models.Session, [a.stripe_checkout_session_id for a in attempts]),
        (djstripe_models.PaymentIntent, [a.stripe_payment_intent_id for a in attempts]),
        (djstripe_models.Charge, [a.stripe_charge_id for a in attempts]),
        (
            djstripe_models.Refund,
            list(
                order.refunds.exclude(stripe_refund_id=None).values_list(
                    "stripe_refund_id", flat=True
                )
            ),
        ),
        (
            djstripe_models.Dispute,
            list(order.disputes.values_list("stripe_dispute_id", flat=True)),
        ),
    ]
    found = []
    for model, ids in wanted:
        ids = [i for i in ids if i]
        if ids:
            found += list(model.objects.filter(id__in=ids).order_by("created"))
    return found
