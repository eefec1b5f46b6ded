"""Stock moves. Every function here must run inside the caller's transaction; products are
locked in id order so that two orders touching the same products cannot deadlock."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.amounts import InvalidAmount
from catalog.models import Product
from core import rows
from core.errors import Conflict, InvalidInput


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = "Not enough stock for this order."


def _move(quantities: Mapping[int, int], *, lock: bool = False, **signs: int) -> None:
    """One UPDATE for every product of an order: each field moves by +/- that product's
    quantity, e.g. `_move(q, stock=-1, reserved=+1)`. SQL built here, not compiled by the
    ORM: every order placed, paid or released moves stock.

    The rows are locked already, or with `lock` the UPDATE locks them itself, in id order
    as `lock_products` does (a locking subquery): one statement instead of two."""
    if not quantities:
        return
    ids, pk = sorted(quantities), rows.quote(Product, "id")
    amount = f"CASE {pk} {' '.join(['WHEN %s THEN %s'] * len(ids))} END"
    amounts = [value for pid in ids for value in (pid, int(quantities[pid]))]
    moves = [
        f"{rows.quote(Product, field)} = {rows.quote(Product, field)} "
        f"{'+' if sign > 0 else '-'} {amount}"
        for field, sign in signs.items()
    ]
    chosen = f"{pk} IN ({rows.placeholders(len(ids))})"
    if lock:
        chosen = f"{pk} IN ({rows.locking_subquery(Product, 'id', chosen)})"
    rows.update(Product, ", ".join(moves), chosen, amounts * len(moves) + ids)


_PRODUCT_FIELDS = ("sku", "name", "description", "unit_amount", "currency", "stock", "active")


def save_product(product: Product | None = None, **fields) -> Product:
    """Create a product, or change one, after the model's checks (Stripe's currency rules
    among them): a price Stripe would refuse is 400 `invalid_amount`, nothing saved."""
    unknown = set(fields) - set(_PRODUCT_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: ["Unknown field."] for name in sorted(unknown)})
    product = product or Product()
    for name, value in fields.items():
        setattr(product, name, value)
    try:
        product.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        if "unit_amount" in errors and any(
            e.code == "invalid_amount" for e in exc.error_dict.get("unit_amount", [])
        ):
            raise InvalidAmount(errors["unit_amount"][0], fields=errors) from None
        raise InvalidInput(fields=errors) from None
    product.save()
    return product


def lock_products(product_ids) -> dict[int, Product]:
    """The products, locked in id order (SQL built once, core.rows)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    products = rows.select(
        Product, f"id IN ({rows.placeholders(len(ids))})", ids, lock=True, order_by="id"
    )
    return {product.pk: product for product in products}


def lock_available_products(quantities: Mapping[int, int]) -> dict[int, Product]:
    """Lock the products of an order (id order) and refuse it when one is not for sale."""
    assert transaction.get_connection().in_atomic_block, "locking products needs a transaction"
    products = lock_products(quantities)
    unavailable = sorted(
        pid for pid in quantities if pid not in products or not products[pid].active
    )
    if unavailable:
        raise InvalidInput(
            "Some products are not available.",
            code="product_unavailable",
            fields={"product_id": [f"Product {pid} is not available." for pid in unavailable]},
        )
    return products


def reserve_stock(quantities: Mapping[int, int]) -> dict[int, Product]:
    """Hold `quantities` (product id → units) for an order, or refuse the whole order."""
    products = lock_available_products(quantities)
    short = sorted(
        (products[pid] for pid, qty in quantities.items() if products[pid].stock < qty),
        key=lambda p: p.pk,
    )
    if short:
        # Named as the shopper sees them (the product's name), never by the internal SKU.
        raise InsufficientStock(
            "Not enough stock for: " + ", ".join(p.name for p in short) + ".",
            fields={
                "product_id": [
                    f"{p.name} (product {p.pk}): {p.stock} available, {quantities[p.pk]} asked."
                    for p in short
                ]
            },
        )
    _move(quantities, stock=-1, reserved=+1)
    return products


def release_stock(quantities: Mapping[int, int]) -> None:
    """Give units held by an unpaid order back to the shelf."""
    _move(quantities, lock=True, stock=+1, reserved=-1)


def sell_stock(quantities: Mapping[int, int]) -> None:
    """Turn units held by an order into sold units once it is paid."""
    _move(quantities, lock=True, reserved=-1, sold=+1)
