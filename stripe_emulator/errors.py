"""Stripe-shaped API errors: the body `{"error": {...}}` and the HTTP status Stripe uses."""


class StripeAPIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        for name in ("code", "param", "decline_code"):
            value = getattr(self, name)
            if value is not None:
                error[name] = value
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None, status=400):
    return StripeAPIError(status, message, code=code, param=param)


def missing_resource(kind: str, object_id: str, param: str = "id") -> StripeAPIError:
    return StripeAPIError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def unexpected_state(code: str | None, message: str) -> StripeAPIError:
    return StripeAPIError(400, message, code=code)
