"""What is sent to Stripe to start a payment, built on the server from the frozen order:
a Checkout Session's or a PaymentIntent's parameters, our metadata, the shop's page
addresses, and the idempotency key of a request."""

from urllib.parse import urljoin

from django.conf import settings

from payments.models import PaymentAttempt


def idempotency(key: str) -> dict:
    """The request options that make Stripe answer a repeated `key` with its first answer."""
    return {"idempotency_key": key}


def _frontend_url(path: str) -> str:
    base = (
        settings.FRONTEND_URL
        if settings.FRONTEND_URL.endswith("/")
        else (settings.FRONTEND_URL + "/")
    )
    return urljoin(base, path)


def _metadata(attempt: PaymentAttempt) -> dict:
    """Our ids, and the shop's name: Stripe sends every event of an account to every
    endpoint, and the webhook handlers ignore objects that name another shop."""
    return {
        "shop": settings.SHOP_ID,
        "order_id": str(attempt.order_id),
        "attempt": str(attempt.number),
    }


def checkout_session_params(attempt: PaymentAttempt, customer_id: str) -> dict:
    order = attempt.order
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.name},
                },
                "quantity": line.quantity,
            }
            for line in order.lines.all()
        ],
        "success_url": _frontend_url(f"orders/{order.pk}?session_id={{CHECKOUT_SESSION_ID}}"),
        "cancel_url": _frontend_url(f"orders/{order.pk}?checkout=cancelled"),
        "expires_at": int(attempt.checkout_expires_at.timestamp()),
        "customer": customer_id,
        "client_reference_id": str(order.pk),
        "metadata": _metadata(attempt),
        "payment_intent_data": {"metadata": _metadata(attempt)},
    }


def payment_intent_params(attempt: PaymentAttempt, customer_id: str) -> dict:
    order = attempt.order
    return {
        "amount": attempt.amount,
        "currency": attempt.currency,
        "customer": customer_id,
        "automatic_payment_methods": {"enabled": True},
        "receipt_email": order.email,
        "description": f"Order {order.number}",
        "metadata": _metadata(attempt),
    }
