"""The refusals services raise: each fixes an HTTP status and a stable error code.

The API turns them into the contract's error body (api.errors); plain Django views use
api.errors.error_response. Nothing here knows about HTTP frameworks.
"""


class ShopError(Exception):
    """A refusal a client can act on. Subclasses fix the status and the code."""

    status = 400
    code = "bad_request"
    message = "The request cannot be processed."
    retry_after: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict | None = None,
        retry_after: int | None = None,
        audit: dict | None = None,
    ):
        """`audit`: arguments for audit.services.record, written after the rollback."""
        super().__init__(message or self.message)
        self.audit = audit
        self.message = message or self.message
        if code:
            self.code = code
        self.fields = fields
        if retry_after is not None:
            self.retry_after = retry_after


class InvalidInput(ShopError):
    status = 400
    code = "validation_error"
    message = "Invalid input."


class NotFound(ShopError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ShopError):
    status = 409
    code = "conflict"
    message = "The current state does not allow this."


class RateLimited(ShopError):
    status = 429
    code = "rate_limited"
    message = "Too many requests. Try again later."
    retry_after = 60


class ServiceUnavailable(ShopError):
    status = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable. Try again shortly."
    retry_after = 30
