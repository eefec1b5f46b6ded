from django.db.models import Prefetch

from orders.models import Cart, CartLine, Order


def cart_for(user) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_lines(cart: Cart):
    return CartLine.objects.filter(cart=cart).select_related("product").order_by("created_at", "id")


def orders_of(user):
    return Order.objects.filter(user=user).prefetch_related(Prefetch("lines"))


# The payments app registers how an order's latest payment attempt is summarised, so that
# orders can show it without importing payments (dependencies point payments → orders).
_payment_summary_provider = None


def register_payment_summary(provider) -> None:
    global _payment_summary_provider
    _payment_summary_provider = provider


def payment_summary(order: Order) -> dict | None:
    return _payment_summary_provider(order) if _payment_summary_provider else None
