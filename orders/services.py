"""Cart and order writes. Prices, names and totals always come from the catalog."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from audit.services import record
from catalog.amounts import check_amount, check_order_total
from catalog.models import Product
from catalog.services import lock_available_products, release_stock, reserve_stock
from core.errors import Conflict, InvalidInput, NotFound, ShopError
from orders.locks import lock_cart, lock_cart_of, lock_order, lock_shopper
from orders.models import (
    Cart,
    CartLine,
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    new_order_number,
)
from orders.selectors import cart_lines
from orders.signals import order_closed_unpaid


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"
    message = "All items of a cart or order must be in one currency."


class TooManyPendingOrders(Conflict):
    code = "too_many_pending_orders"
    message = "You have too many orders waiting for payment. Pay or cancel one first."


class TooManyReservedUnits(Conflict):
    code = "too_many_reserved_units"
    message = "Your unpaid orders already hold as many units of this product as one shopper may."


def _active_product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, active=True).first()
    if product is None:
        raise InvalidInput(
            "This product is not available.",
            code="product_unavailable",
            fields={"product_id": ["No active product with this id."]},
        )
    return product


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= settings.LINE_MAX_QUANTITY:
        raise InvalidInput(
            fields={"quantity": [f"Must be between 1 and {settings.LINE_MAX_QUANTITY}."]}
        )


@transaction.atomic
def add_to_cart(*, user, product_id: int, quantity: int) -> Cart:
    cart = lock_cart(user)
    product = _active_product(product_id)
    lines = list(cart_lines(cart))
    if lines and cart.currency and product.currency != cart.currency:
        raise CurrencyMismatch(
            f"This cart is in {cart.currency.upper()}; "
            f"this product is priced in {product.currency.upper()}."
        )
    existing = next((line for line in lines if line.product_id == product.pk), None)
    if existing is None:
        if len(lines) >= settings.CART_MAX_LINES:
            raise InvalidInput(
                f"A cart holds at most {settings.CART_MAX_LINES} lines.", code="cart_full"
            )
        _check_quantity(quantity)
        CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    else:
        _check_quantity(existing.quantity + quantity)
        existing.quantity += quantity
        existing.save(update_fields=["quantity"])
    cart.currency = product.currency
    cart.save(update_fields=["currency", "updated_at"])
    return cart


def _own_cart_line(cart: Cart, line_id: int) -> CartLine:
    line = CartLine.objects.filter(cart=cart, pk=line_id).first()
    if line is None:
        raise NotFound()
    return line


@transaction.atomic
def change_cart_line(*, user, line_id: int, quantity: int) -> Cart:
    cart = lock_cart(user)
    line = _own_cart_line(cart, line_id)
    _check_quantity(quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return cart


@transaction.atomic
def remove_cart_line(*, user, line_id: int) -> Cart:
    cart = lock_cart(user)
    _own_cart_line(cart, line_id).delete()
    if not cart.lines.exists():
        cart.currency = ""
        cart.save(update_fields=["currency", "updated_at"])
    return cart


def take_ordered_from_cart(order: Order) -> None:
    """After payment: the shopper bought what the order took, not what came after it.

    Each ordered product leaves the cart up to its ordered quantity, and only from a line
    that was there when the order was placed: a line added later (the shopper kept
    shopping while a bank debit settled) is never touched, and units added to an older
    line stay. The cart row is locked before its lines are written (orders.locks).
    """
    cart = lock_cart_of(order.user_id)
    if cart is None:
        return
    ordered = order.quantities()
    lines = CartLine.objects.filter(
        cart=cart, product_id__in=list(ordered), created_at__lte=order.created_at
    )
    for line in lines:
        left = line.quantity - ordered[line.product_id]
        if left > 0:
            line.quantity = left
            line.save(update_fields=["quantity"])
        else:
            line.delete()
    if not cart.lines.exists():
        cart.currency = ""
    cart.save(update_fields=["currency", "updated_at"])


def _merge(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for product_id, quantity in lines:
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    for quantity in quantities.values():
        _check_quantity(quantity)
    if len(quantities) > settings.CART_MAX_LINES:
        raise InvalidInput(f"An order holds at most {settings.CART_MAX_LINES} lines.")
    return quantities


def _refusal(user, **details) -> dict:
    return {"action": "order.create", "actor": user, "details": details}


def _check_pending_limit(user) -> None:
    pending = Order.objects.filter(user=user, status=OrderStatus.PENDING_PAYMENT).count()
    if pending >= settings.MAX_PENDING_ORDERS:
        raise TooManyPendingOrders(
            f"You already have {pending} orders waiting for payment (at most "
            f"{settings.MAX_PENDING_ORDERS}). Pay or cancel one first.",
            audit=_refusal(user, reason="too_many_pending_orders", pending=pending),
        )


def _check_reserved_per_product(user, quantities: dict[int, int]) -> None:
    """Units of each product already held by this shopper's unpaid orders, plus these."""
    held = dict(
        OrderLine.objects.filter(
            order__user=user,
            order__status=OrderStatus.PENDING_PAYMENT,
            order__stock_released=False,
            product_id__in=list(quantities),
        )
        .values_list("product_id")
        .annotate(units=Sum("quantity"))
    )
    limit = settings.MAX_RESERVED_PER_PRODUCT
    over = sorted(pid for pid, qty in quantities.items() if held.get(pid, 0) + qty > limit)
    if over:
        raise TooManyReservedUnits(
            f"One shopper may hold at most {limit} units of a product in unpaid orders.",
            fields={
                "product_id": [
                    f"Product {pid}: {held.get(pid, 0)} held, {quantities[pid]} more asked."
                    for pid in over
                ]
            },
            audit=_refusal(user, reason="too_many_reserved_units", products=over),
        )


@transaction.atomic
def create_order(*, user, lines: list[tuple[int, int]] | None = None) -> Order:
    """Order `lines` (product id, quantity), or the cart when `lines` is None.

    Everything that can refuse the order is checked before stock moves: the shopper's
    pending orders and held units (stock hoarding), availability, one currency, and the
    total (Stripe's currency rules, `PAYMENT_MAX_AMOUNT`). Stock is then reserved in the
    same transaction, so two shoppers racing for the last unit cannot both win; the loser
    gets 409 insufficient_stock and nothing is written. The reservation is short
    (`ORDER_HOLD_MINUTES`) until a payment is started.
    """
    lock_shopper(user)
    if lines is None:
        lines = [(line.product_id, line.quantity) for line in cart_lines(lock_cart(user))]
        if not lines:
            raise InvalidInput("The cart is empty.", code="cart_empty")
    if not lines:
        raise InvalidInput(fields={"lines": ["At least one line is required."]})
    quantities = _merge(lines)
    _check_pending_limit(user)
    products = lock_available_products(quantities)
    currencies = {products[pid].currency for pid in quantities}
    if len(currencies) != 1:
        raise CurrencyMismatch()
    currency = currencies.pop()

    order_lines = [
        OrderLine(
            product=products[pid],
            sku=products[pid].sku,
            name=products[pid].name,
            unit_amount=products[pid].unit_amount,
            quantity=quantity,
            line_total=products[pid].unit_amount * quantity,
        )
        for pid, quantity in quantities.items()
    ]
    subtotal = sum(line.line_total for line in order_lines)
    refusal = _refusal(user, reason="amount") | {"amount": subtotal, "currency": currency}
    for line in order_lines:
        # A price stored before the rules (or by hand in the database) is refused here.
        check_amount(line.unit_amount, currency, field="lines", audit=refusal)
    check_order_total(subtotal, currency, audit=refusal)
    _check_reserved_per_product(user, quantities)
    reserve_stock(quantities)

    order = _insert_order(
        user=user,
        email=user.email,
        currency=currency,
        subtotal=subtotal,
        total=subtotal,
        reserved_until=timezone.now() + timedelta(minutes=settings.ORDER_HOLD_MINUTES),
    )
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    record(
        "order.created",
        actor=user,
        obj=order,
        order=order,
        amount=order.total,
        currency=order.currency,
        details={"number": order.number, "lines": len(order_lines)},
    )
    return order


def _insert_order(**fields) -> Order:
    for _ in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=new_order_number(), **fields)
        except IntegrityError:
            continue  # an order number collision: draw another
    raise Conflict("Could not allocate an order number; try again.", code="order_number_busy")


def extend_reservation(order: Order, until) -> None:
    """Hold the locked order's stock until `until`, when that is later than now held."""
    if until > order.reserved_until:
        order.reserved_until = until
        order.save(update_fields=["reserved_until", "updated_at"])


def _close_unpaid(order: Order, actor=None) -> None:
    order_closed_unpaid.send(sender=Order, order=order, actor=actor)
    if not order.stock_released:
        release_stock(order.quantities())
        order.stock_released = True


def _cancel_refusal(user, order: Order, **details) -> dict:
    return {
        "action": "order.cancel",
        "actor": user,
        "obj": order,
        "order": order,
        "amount": order.total,
        "currency": order.currency,
        "details": details,
    }


@transaction.atomic
def cancel_order(*, user, order_id: int, as_staff: bool = False) -> Order:
    """The shopper (their own order) or staff (`as_staff`) cancels an unpaid order.

    The open payments are closed at Stripe while the order is locked, so a payment event
    waits for the cancel to finish. When Stripe says a payment went through or is being
    processed (409 payment_in_progress), or cannot be reached, the whole cancel rolls back:
    the order stays payable, its stock reserved, the webhook records the payment, and the
    refusal is audited.
    """
    order = lock_order(order_id, user=None if as_staff else user)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(
            f"An order that is {order.get_status_display().lower()} cannot be cancelled.",
            code="order_not_cancellable",
            audit=_cancel_refusal(user, order, status=order.status),
        )
    order.cancel()
    try:
        _close_unpaid(order, actor=user)
    except ShopError as exc:
        # The order stays pending_payment: the transaction rolls back.
        details = (exc.audit or {}).get("details") or {}
        exc.audit = _cancel_refusal(user, order, **{**details, "status": "pending_payment"})
        if exc.status >= 500:
            exc.audit["outcome"] = "failed"  # Stripe unreachable: not a refusal
        raise
    order.save()
    record(
        "order.cancelled",
        actor=user,
        obj=order,
        order=order,
        amount=order.total,
        currency=order.currency,
        details={"by_staff": as_staff},
    )
    return order


@transaction.atomic
def mark_fulfilled(*, order_id: int, staff_user) -> Order:
    """The goods went out. Allowed while the money is held (paid, partially refunded,
    disputed); the status moves only paid → fulfilled, any other keeps following the money."""
    order = lock_order(order_id)
    refusal = {"action": "order.fulfil", "actor": staff_user, "obj": order, "order": order}
    if order.fulfilment_status == FulfilmentStatus.FULFILLED:
        raise Conflict(
            f"Order {order.number} is already fulfilled.",
            code="order_already_fulfilled",
            audit=refusal,
        )
    if not order.can_be_fulfilled():
        raise Conflict(
            "Only a paid, partially refunded or disputed order can be fulfilled; this one is "
            f"{order.get_status_display().lower()}.",
            code="order_not_fulfillable",
            audit=refusal | {"details": {"status": order.status}},
        )
    if order.status == OrderStatus.PAID:
        order.mark_fulfilled()
    order.fulfil()
    order.save()
    record(
        "order.fulfilled",
        actor=staff_user,
        obj=order,
        order=order,
        amount=order.total,
        currency=order.currency,
        details={"status": order.status},
    )
    return order


@transaction.atomic
def expire_order(order_id: int) -> bool:
    """Expire an unpaid order past its reservation; False when it no longer qualifies."""
    order = lock_order(order_id)
    if order.status != OrderStatus.PENDING_PAYMENT or order.reserved_until > timezone.now():
        return False
    expire_locked_order(order, reason="reservation ran out")
    return True


def expire_locked_order(order: Order, *, reason: str) -> None:
    """Expire a pending order the caller has locked: stock goes back, attempts close."""
    order.expire()
    _close_unpaid(order)
    order.save()
    record(
        "order.expired",
        actor_label="system",
        obj=order,
        order=order,
        amount=order.total,
        currency=order.currency,
        details={"reason": reason},
    )
