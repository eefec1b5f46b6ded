"""Shop rules: reservations, pending orders, cart limits, the front end's address."""

from urllib.parse import urlsplit

from config.settings.base import env

ORDER_RESERVATION_MINUTES = env.int("ORDER_RESERVATION_MINUTES", default=30)
# A new order holds its stock only this long until a payment attempt exists; starting a
# payment stretches the hold to ORDER_RESERVATION_MINUTES (stock hoarding).
ORDER_HOLD_MINUTES = env.int("ORDER_HOLD_MINUTES", default=10)
# Orders one shopper may have waiting for payment (the next gets 409 too_many_pending_orders).
MAX_PENDING_ORDERS = env.int("MAX_PENDING_ORDERS", default=3)
# Units of one product one shopper may hold across their unpaid orders (409
# too_many_reserved_units).
MAX_RESERVED_PER_PRODUCT = env.int("MAX_RESERVED_PER_PRODUCT", default=20)
CART_MAX_LINES = 100
LINE_MAX_QUANTITY = 1000
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000/shop/")
# This shop's name in the metadata of everything it creates at Stripe. Stripe sends every
# event of an account to every endpoint; an event whose metadata names another shop (a
# staging or CI deployment on the same test account, another shop on a live account) is
# ignored. Give each deployment sharing a Stripe account its own value.
SHOP_ID = env.str("SHOP_ID", default="") or urlsplit(FRONTEND_URL).netloc.rpartition("@")[2].lower()
