"""Reading the Stripe objects events carry: the id of a reference, our metadata (order,
attempt number, shop), and whether another shop on the same Stripe account made it."""

from django.conf import settings


def stripe_id(value) -> str:
    """The id of a Stripe reference, expanded (an object) or not (a string)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def metadata(obj) -> dict:
    """The object's metadata; {} when it has none, or something else under that key."""
    found = obj.get("metadata") if isinstance(obj, dict) else None
    return found if isinstance(found, dict) else {}


def metadata_ids(obj: dict) -> tuple[int | None, int | None]:
    """The order id and attempt number our metadata names, when they are ids."""
    found = metadata(obj)
    order_id, number = found.get("order_id"), found.get("attempt")
    order_id = int(order_id) if _is_id(order_id) else None
    number = int(number) if _is_id(number) else None
    return order_id, number


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) <= 18


def names_this_shop(obj: dict) -> bool:
    return metadata(obj).get("shop") == settings.SHOP_ID


def names_another_shop(obj: dict) -> bool:
    """Another deployment on the same Stripe account made this object (see SHOP_ID)."""
    shop = metadata(obj).get("shop")
    return shop is not None and shop != settings.SHOP_ID
