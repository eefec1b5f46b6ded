"""The demo storefront page (`/shop/`): the only page allowed to load Stripe.js.

Everywhere else the Content-Security-Policy is the strict default from settings
(`default-src 'self'`, no inline script). This view widens it for Stripe only: the
script from js.stripe.com, Stripe's frames (card fields, 3-D Secure) and its API.
With `STRIPE_API_BASE` set (the offline emulator, development and tests only: shop.E005
refuses it with a live key) the page may also call that one origin, where the page's own
script stands in for Stripe.js, and Stripe.js itself is not loaded.
"""

from urllib.parse import urlsplit

from csp.constants import SELF
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

STRIPE_JS = "https://js.stripe.com"
STRIPE_CSP = {
    "script-src": [SELF, STRIPE_JS],
    "frame-src": [STRIPE_JS, "https://hooks.stripe.com"],
    "connect-src": [SELF, "https://api.stripe.com"],
}


def emulator_origin() -> str:
    """`scheme://host:port` of STRIPE_API_BASE, or "" when the real Stripe is used."""
    if not settings.STRIPE_API_BASE:
        return ""
    parts = urlsplit(settings.STRIPE_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


def storefront_csp() -> dict:
    """STRIPE_CSP, and the emulator's origin in connect-src when there is one."""
    origin = emulator_origin()
    if not origin:
        return STRIPE_CSP
    return {**STRIPE_CSP, "connect-src": [*STRIPE_CSP["connect-src"], origin]}


@require_safe
def shop_page(request, order_id: int | None = None):
    """The shop, or (`/shop/orders/<id>`, Checkout's success and cancel URLs) one order."""
    origin = emulator_origin()
    response = render(
        request,
        "shop/index.html",
        {
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js": "" if origin else f"{STRIPE_JS}/v3/",
            "stripe_api_base": origin,
            "order_id": order_id,
        },
    )
    # What django-csp's @csp_replace does, with a policy that depends on the settings.
    response._csp_replace = storefront_csp()
    return response
