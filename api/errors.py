"""One error body for every API error:

    {"error": {"code": "<snake_case>", "message": "<human text>", "fields": {...}}}

Services raise `ShopError` subclasses (core.errors); DRF's and Django's own exceptions are
mapped here, once; Django's error views for /api/ (api.views) answer the same body. A 500
never carries a stack trace, SQL, a key or Stripe's raw text.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from audit.services import record_refusal
from core.errors import RateLimited, ServiceUnavailable, ShopError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten(detail):
    """DRF error details → plain strings, keeping the field structure."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


def _validation_response(exc: drf.ValidationError) -> Response:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = _flatten(detail)
        non_field = fields.pop("non_field_errors", None)
        message = non_field[0] if non_field else "Invalid input."
        codes = exc.get_codes()
        code = "validation_error"
        if not fields and isinstance(codes, dict):
            single = codes.get("non_field_errors")
            if isinstance(single, list) and len(single) == 1 and single[0] != "invalid":
                code = single[0]
        return Response(error_body(code, message, fields or None), status=400)
    messages = _flatten(detail)
    message = messages[0] if messages and isinstance(messages[0], str) else "Invalid input."
    return Response(error_body("validation_error", message), status=400)


def error_response(exc: ShopError) -> JsonResponse:
    """The contract's body for a ShopError, outside DRF (plain Django views)."""
    response = JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(int(exc.retry_after))
    return response


def _with_retry_after(response: Response, seconds: int | None) -> Response:
    if seconds is not None:
        response["Retry-After"] = str(int(seconds))
    return response


def api_exception_handler(exc, context):
    if isinstance(exc, ShopError):
        if exc.audit:
            # The refusal rolled back the request's transaction; its trace is kept here
            # (the admin's views record theirs the same way).
            record_refusal(exc.audit, exc.code)
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
        return _with_retry_after(response, exc.retry_after)
    if isinstance(exc, Http404 | drf.NotFound):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is too large."), status=413
        )
    if isinstance(exc, drf.ValidationError):
        return _validation_response(exc)
    if isinstance(exc, drf.ParseError):
        # core.json_input says what is wrong (too deep, a number too large, ...); its
        # messages never quote the body.
        message = str(exc.detail) if exc.detail else "The body is not valid JSON."
        return Response(error_body("malformed_json", message), status=400)
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, drf.NotAuthenticated) else "invalid_token"
        response = Response(error_body(code, str(exc.detail)), status=401)
        authenticate_header = context["view"].get_authenticate_header(context["request"])
        if authenticate_header:
            response["WWW-Authenticate"] = authenticate_header
        return response
    if isinstance(exc, drf.Throttled):
        response = Response(error_body("rate_limited", RateLimited.message), status=429)
        return _with_retry_after(response, exc.wait or RateLimited.retry_after)
    if isinstance(exc, drf.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # DRF's SessionAuthentication refused a write without the CSRF token: same body as
        # Django's own CSRF refusal (csrf_failure below).
        return Response(
            error_body("csrf_failed", "CSRF verification failed. Reload the page."), status=403
        )
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return Response(
            error_body("permission_denied", "You are not allowed to do this."), status=403
        )
    if isinstance(exc, drf.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        return Response(error_body(code, str(exc.detail)), status=exc.status_code)
    if database_unreachable(exc):
        logger.exception("Database unavailable in %s", context["view"].__class__.__name__)
        return _with_retry_after(
            Response(error_body(ServiceUnavailable.code, ServiceUnavailable.message), status=503),
            ServiceUnavailable.retry_after,
        )
    # Anything else is our bug: log it with its traceback, answer without any detail.
    logger.exception("Unhandled error in %s", context["view"].__class__.__name__)
    return Response(error_body("server_error", "Internal server error."), status=500)


def database_unreachable(exc: BaseException | None) -> bool:
    """The database went away (restart, failover, network): try again shortly, not a bug."""
    return isinstance(exc, OperationalError | InterfaceError)
