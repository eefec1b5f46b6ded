"""What the runs throw at the shop: signed Stripe events posted straight to the webhook
endpoint (one by one or in bulk), and the pending orders those events are about."""

import json
import time

from harness import WEBHOOK_SECRET


def signed_post(session, url: str, event: dict, timeout: float = 15):
    import stripe

    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    return session.post(
        f"{url}/api/v1/webhooks/stripe/",
        data=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=timeout,
    )


def event(event_id: str, type_: str, obj: dict, created: int) -> dict:
    from django.conf import settings

    return {
        "id": event_id,
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def payment_intent(
    pi_id: str,
    order_id: int,
    attempt: int,
    amount: int,
    *,
    status="succeeded",
    currency="usd",
    error=None,
) -> dict:
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "status": status,
        "capture_method": "automatic",
        "latest_charge": f"ch_{pi_id[3:]}" if status == "succeeded" else None,
        "last_payment_error": error,
        "metadata": {"order_id": str(order_id), "attempt": str(attempt)},
        "livemode": False,
    }


def seed_orders(count: int, *, prefix: str, users: int = 50, amount: int = 1500, attempts=1):
    """`count` pending orders, each with one line and `attempts` PaymentIntent attempts.

    Returns [(order_id, [pi ids...])]. One product holds exactly the reserved units, so
    stock sold once per paid order is checkable.
    """
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import Product
    from orders.models import Order, OrderLine
    from payments.models import PaymentAttempt

    user_model = get_user_model()
    people = user_model.objects.bulk_create(
        [user_model(email=f"{prefix}-{n}@example.com") for n in range(users)]
    )
    product = Product.objects.create(
        sku=f"{prefix.upper()}-SKU",
        name=f"Fault run item {prefix}",
        description="x",
        unit_amount=amount,
        currency="usd",
        stock=count,
        reserved=count,
        active=True,
    )
    until = timezone.now() + timedelta(hours=6)
    orders = Order.objects.bulk_create(
        [
            Order(
                user=people[n % users],
                email=people[n % users].email,
                currency="usd",
                subtotal=amount,
                total=amount,
                reserved_until=until,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=o,
                product=product,
                sku=product.sku,
                name=product.name,
                unit_amount=amount,
                quantity=1,
                line_total=amount,
            )
            for o in orders
        ],
        batch_size=1000,
    )
    rows, seeded = [], []
    for o in orders:
        ids = []
        for number in range(1, attempts + 1):
            pi = f"pi_{prefix}_{o.pk}_{number}"
            ids.append(pi)
            rows.append(
                PaymentAttempt(
                    order=o,
                    number=number,
                    kind=PaymentAttempt.Kind.PAYMENT_INTENT,
                    stripe_payment_intent_id=pi,
                    amount=amount,
                    currency="usd",
                )
            )
        seeded.append((o.pk, ids))
    PaymentAttempt.objects.bulk_create(rows, batch_size=1000)
    return product.pk, seeded


def post_all(url: str, events: list[dict], threads: int = 8, deadline: float = 600):
    """POST every event once (bounded in time); returns the list of status codes (None: error)."""
    import concurrent.futures
    import threading

    import requests

    local = threading.local()
    stop_at = time.monotonic() + deadline

    def one(evt):
        if time.monotonic() > stop_at:
            return None
        if not hasattr(local, "session"):
            local.session = requests.Session()
        try:
            return signed_post(local.session, url, evt).status_code
        except requests.RequestException:
            return None

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, events))
