from collections.abc import Callable

from django.db.models import Prefetch

from orders.models import Cart, CartLine, Order


def cart_for(user) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_lines(cart: Cart):
    return CartLine.objects.filter(cart=cart).select_related("product").order_by("created_at", "id")


def orders_of(user):
    """The user's orders with their lines and what their payment summary reads, prefetched:
    a page of orders costs the same few queries as one order."""
    orders = Order.objects.filter(user=user).prefetch_related(Prefetch("lines"))
    if _payment_summary_prefetch is not None:
        orders = orders.prefetch_related(_payment_summary_prefetch())
    return orders


# The payments app registers how an order's latest payment attempt is summarised, and the
# prefetch that summary reads, so that orders can show it without importing payments
# (dependencies point payments → orders).
_payment_summary_provider = None
_payment_summary_prefetch = None


def register_payment_summary(provider, prefetch: Callable[[], Prefetch] | None = None) -> None:
    global _payment_summary_provider, _payment_summary_prefetch
    _payment_summary_provider = provider
    _payment_summary_prefetch = prefetch


def payment_summary(order: Order) -> dict | None:
    return _payment_summary_provider(order) if _payment_summary_provider else None
