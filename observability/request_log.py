"""One log line per request, and the request's ids bound for every line logged inside it."""

import logging
import time

import structlog

from core.client_address import client_address
from observability.logging import current_http_request

logger = logging.getLogger("shop.request")

# URL kwargs that name an order (see config.urls: orders/<id:pk>/...).
ORDER_ROUTES = {
    "order-detail",
    "order-cancel",
    "order-checkout-session",
    "order-payment-intent",
    "order-payment",
}


class RequestLogMiddleware:
    """After RequestIdMiddleware: binds the request (user id, order id) and logs its end."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        structlog.contextvars.clear_contextvars()
        token = current_http_request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": match.url_name if match else None,
                    # The client behind TRUSTED_PROXIES (or "unknown"), never the proxy.
                    "client": client_address(request),
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        finally:
            current_http_request.reset(token)
        structlog.contextvars.clear_contextvars()
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match and match.url_name in ORDER_ROUTES and "pk" in view_kwargs:
            structlog.contextvars.bind_contextvars(order_id=view_kwargs["pk"])
