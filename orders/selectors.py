from collections.abc import Callable

from django.db.models import Prefetch

from core import rows
from orders.models import Cart, CartLine, Order, OrderLine


def cart_for(user) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_lines(cart: Cart):
    return CartLine.objects.filter(cart=cart).select_related("product").order_by("created_at", "id")


def read_lines(order: Order) -> None:
    """Read the order's lines once into its prefetch cache, as `prefetch_related("lines")`
    would (no query when they are there already); later `order.lines.all()` reads no more.

    Every payment reads them (cart, stock, receipt), so with SQL built once (core.rows):
    the ORM's prefetch machinery was a fifth of applying a payment.
    """
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    if "lines" in cache:
        return
    lines = rows.select(OrderLine, "order_id = %s", [order.pk], order_by="id")
    for line in lines:
        OrderLine.order.field.set_cached_value(line, order)
    queryset = order.lines.get_queryset()
    queryset._result_cache, queryset._prefetch_done = lines, True
    cache["lines"] = queryset


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
