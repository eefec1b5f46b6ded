"""The demo storefront page (`/shop/`): the only page allowed to load Stripe.js.

Everywhere else the Content-Security-Policy is the strict default from settings
(`default-src 'self'`, no inline script). This view widens it for Stripe only: the
script from js.stripe.com, Stripe's frames (card fields, 3-D Secure) and its API.
"""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

STRIPE_JS = "https://js.stripe.com"
STRIPE_CSP = {
    "script-src": [SELF, STRIPE_JS],
    "frame-src": [STRIPE_JS, "https://hooks.stripe.com"],
    "connect-src": [SELF, "https://api.stripe.com"],
}


@require_safe
@csp_replace(STRIPE_CSP)
def shop_page(request):
    return render(
        request,
        "shop/index.html",
        {"publishable_key": settings.STRIPE_PUBLISHABLE_KEY, "stripe_js": f"{STRIPE_JS}/v3/"},
    )
