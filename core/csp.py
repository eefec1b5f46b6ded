"""The Content-Security-Policy: strict everywhere, two deliberate exceptions.

- `/shop/` may load Stripe.js (demo_shop.views).
- The Django admin may use inline *styles* (its changelist and our order page use a few
  `style` attributes and one `<style>` block). Scripts stay `'self'` only there too: an
  injected style cannot run code, an injected script could.
"""

from csp.constants import NONE, SELF, UNSAFE_INLINE

POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}


class AdminInlineStylesMiddleware:
    """Below csp.middleware.CSPMiddleware: widens style-src for admin pages only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return response
