"""The lock order, and the locks of the rows orders owns.

Every transaction that locks more than one row takes its locks in this order:

    shopper (user) → order → payment attempt → refunds / disputes → cart → products

- shopper: `lock_shopper`, only when placing an order (one shopper's orders are created
  one at a time, so the pending-order and reserved-unit limits hold under concurrency);
- order: `lock_order`, the first lock of everything that happens to an existing order:
  paying, cancelling, expiring, fulfilling, refunding, webhook handlers, reconciliation;
- payment attempt, refunds, disputes: `payments.locks` (rows payments owns, taken with
  their order already locked, e.g. `payments.locks.lock_order_and_attempt`);
- cart: `lock_cart` (the cart services, placing an order from the cart); a paid order
  takes its lines from the cart under `lock_cart_of`, the cart row before its lines, as the
  cart services do;
- products: `catalog.services.lock_products`, always in id order and always last: a stock
  move (reserve, release, sell) locks its products itself.

Two transactions that take locks in one order never wait for each other in a circle, so
requests, webhook handlers, reconciliation and staff actions cannot deadlock. Rows outside
this chain are locked alone, in transactions of their own (the inbox and outbox rows,
reconciliation mismatches: `payments.locks`). No lock is held while Stripe is called.
"""

from django.contrib.auth import get_user_model

from core import rows
from core.errors import NotFound
from orders.models import Cart, Order


def lock_shopper(user) -> None:
    """The shopper's row (FOR NO KEY UPDATE: rows pointing at the user may still be added)."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()


def lock_cart(user) -> Cart:
    """The shopper's cart, made on first use."""
    Cart.objects.get_or_create(user=user)
    return Cart.objects.select_for_update().get(user=user)


def lock_cart_of(user_id: int) -> Cart | None:
    """The shopper's cart, when they have one (a paid order takes its lines from it).
    Taken for every payment: SQL built once (core.rows)."""
    return rows.first(Cart, "user_id = %s", [user_id], lock=True, order_by="id")


def lock_order(order_id: int, *, user=None) -> Order:
    """An order (of `user`, when given); NotFound (404) when there is none."""
    queryset = Order.objects.select_for_update()
    if user is not None:
        queryset = queryset.filter(user=user)
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    return order


def lock_order_where_id_is(subquery: str, params) -> Order:
    """The order whose id `subquery` (SQL on the caller's own table, one column, one row)
    selects, in one locking statement built once (core.rows); NotFound when none.

    How a webhook handler finds and locks the order of a payment by its Stripe id (payments
    owns that column) without reading the payment first.
    """
    order = rows.first(Order, f"id = ({subquery})", params, lock=True)
    if order is None:
        raise NotFound()
    return order
