"""The order list's CSV columns (the export itself: payments.admin.exports)."""

from payments.admin.exports import Column, money, text

ORDER_FIELDS = (
    "number",
    "created_at",
    "updated_at",
    "status",
    "currency",
    "subtotal",
    "total",
    "amount_refunded",
    "email",
    "user_id",
)

ORDER_COLUMNS: list[Column] = [
    text("number", "number"),
    text("created_at", "created_at"),
    text("updated_at", "updated_at"),
    text("status", "status"),
    text("currency", "currency"),
    *money("total", "total"),
    *money("refunded", "amount_refunded"),
    text("email", "email"),
    text("customer_id", "user_id"),
]
