import re
import uuid

from core.client_address import UNKNOWN, client_address
from core.context import RequestContext, current_request

# A caller's id is kept only when it is short and plain, so it is safe in logs and headers.
ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Accepts `X-Request-ID` (or makes one), binds it for audit and logs, returns it."""

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(self.header, "")
        request_id = incoming if ACCEPTABLE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        address = client_address(request)  # behind TRUSTED_PROXIES: the shopper, not nginx
        token = current_request.set(
            RequestContext(
                request_id=request_id,
                ip_address=address if address != UNKNOWN else None,
                user_agent=request.headers.get("User-Agent", "")[:512],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response[self.header] = request_id
        return response
