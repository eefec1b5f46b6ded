"""What the OpenAPI schema says about errors and the plumbing around a view, in one place.

drf-spectacular documents what a view declares (its serializers, `@extend_schema`). The
shop's `AutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds to every operation the
error responses, in the contract's body (the `Error` component), that it can answer:

- from the view's configuration: a body that fails validation or is not JSON (400) or is
  too large (413); no token or a bad one (401; an operation open to everybody still refuses
  a bad token); a write without the CSRF token when the session cookie is accepted (403);
  an id or a page that does not exist (404); and, for all of these, the database being
  unreachable (503 with Retry-After). An operation with none of them (the health probes)
  touches nothing that can refuse it;
- from the decorators on its handler, through `document()`: `@rate_limited` adds 429,
  `@idempotent` its required `Idempotency-Key` header, its replay header and its refusals;
- from the view itself: `@refuses(...)` lists the refusals its services raise.

A decorator or view names refusals by their `ShopError` class (or an instance, for a code
raised inline), so the documented status, code and example message are the ones sent.
"""

from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework.authentication import SessionAuthentication
from rest_framework.fields import Field
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.serializers import BaseSerializer

from api.errors import error_body
from core.errors import ServiceUnavailable, ShopError


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    fields: dict | None = None


def refusal(error: "type[ShopError] | ShopError | Refusal") -> Refusal:
    if isinstance(error, Refusal):
        return error
    if isinstance(error, type):
        error = error()
    return Refusal(error.status, error.code, error.message, error.fields)


UNKNOWN_FIELD = Refusal(400, "validation_error", "Invalid input.", {"price": ["Unknown field."]})
REQUIRED = str(Field.default_error_messages["required"])
MALFORMED_JSON = Refusal(400, "malformed_json", "The body is not valid JSON.")
PAYLOAD_TOO_LARGE = Refusal(413, "payload_too_large", "The request body is too large.")
NOT_AUTHENTICATED = Refusal(
    401, "not_authenticated", "Authentication credentials were not provided."
)
INVALID_TOKEN = Refusal(401, "invalid_token", "Invalid token.")
CSRF_FAILED = Refusal(403, "csrf_failed", "CSRF verification failed. Reload the page.")
NOT_FOUND = Refusal(404, "not_found", "Not found.")
DATABASE_UNAVAILABLE = refusal(ServiceUnavailable)

# The request body of a POST that takes no fields (its view validates it with a serializer
# without fields, which drf-spectacular would leave out): `{}` or nothing.
EMPTY_BODY = {
    "application/json": {
        "type": "object",
        "additionalProperties": False,
        "maxProperties": 0,
        "description": "`{}` or no body: this action takes no fields.",
    }
}

STATUS_DESCRIPTIONS = {
    400: "Invalid input: the body failed validation (`fields` says where), is not JSON, or "
    "a rule of the shop refused it. Nothing was changed.",
    401: "No token, or one that is unknown, expired or revoked.",
    402: "The card was declined.",
    403: "A write with the session cookie but without the CSRF token.",
    404: "No such object (or not yours), or no such page.",
    409: "The current state does not allow this (or the same Idempotency-Key is in flight).",
    413: "The body is larger than the server accepts.",
    422: "This Idempotency-Key was used for a different request.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    502: "The payment provider refused the request.",
    503: "A dependency (the database, the payment provider) is unavailable, or payments are "
    "switched off: retry after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


# --- what handlers carry ---------------------------------------------------------------
def document(handler, *, refusals=(), parameters=(), success_headers=None):
    """Note on a handler (a view's `post`, or a decorator's wrapper) what the schema shows.

    `functools.wraps` copies these notes outwards, so decorators stack in any order."""
    handler.openapi_refusals = getattr(handler, "openapi_refusals", ()) + tuple(
        refusal(error) for error in refusals
    )
    handler.openapi_parameters = getattr(handler, "openapi_parameters", ()) + tuple(parameters)
    handler.openapi_success_headers = {
        **getattr(handler, "openapi_success_headers", {}),
        **(success_headers or {}),
    }
    return handler


def refuses(*errors):
    """Decorate a handler with the refusals its services raise (ShopError classes, or
    instances for codes raised inline)."""

    def decorator(handler):
        return document(handler, refusals=errors)

    return decorator


# --- the error body --------------------------------------------------------------------
ERROR_DETAIL_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "Stable, snake_case: what a client branches on.",
        },
        "message": {"type": "string", "description": "For people; may change."},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": "Only for validation errors: the messages per field "
            "(nested like the body for nested fields).",
        },
    },
    "required": ["code", "message"],
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
    "required": ["error"],
    "description": "Every error the API answers, whatever the status.",
}


def _register_error_components(registry) -> dict:
    for name, schema in (("ErrorDetail", ERROR_DETAIL_SCHEMA), ("Error", ERROR_SCHEMA)):
        component = ResolvedComponent(name, ResolvedComponent.SCHEMA, schema=schema, object=name)
        registry.register_on_missing(component)
    return {"$ref": "#/components/schemas/Error"}


def error_responses(refusals: list[Refusal], registry, authenticate_header: str | None):
    ref = _register_error_components(registry)
    by_status: dict[int, dict[str, Refusal]] = {}
    for found in refusals:
        by_status.setdefault(found.status, {}).setdefault(found.code, found)
    responses = {}
    for status in sorted(by_status):
        examples = {
            code: {"summary": code, "value": error_body(code, found.message, found.fields)}
            for code, found in by_status[status].items()
        }
        response = {
            "description": STATUS_DESCRIPTIONS.get(status, "Refused."),
            "content": {"application/json": {"schema": ref, "examples": examples}},
        }
        if status in (429, 503):
            response["headers"] = {"Retry-After": RETRY_AFTER}
        if status == 401 and authenticate_header:
            response["headers"] = {
                "WWW-Authenticate": {
                    "description": "The scheme to authenticate with.",
                    "schema": {"type": "string", "enum": [authenticate_header]},
                }
            }
        responses[str(status)] = response
    return responses


# --- the schema class ------------------------------------------------------------------
class ShopAutoSchema(AutoSchema):
    def _handler(self):
        return getattr(self.view, self.method.lower(), None)

    def get_override_parameters(self):
        return [
            *super().get_override_parameters(),
            *getattr(self._handler(), "openapi_parameters", ()),
        ]

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        refusals = self._refusals(operation)
        authenticators = [cls() for cls in self.view.authentication_classes]
        header = authenticators[0].authenticate_header(None) if authenticators else None
        operation["responses"].update(error_responses(refusals, registry, header))
        headers = getattr(self._handler(), "openapi_success_headers", {})
        for status, response in operation["responses"].items():
            if headers and status.startswith("2"):
                response.setdefault("headers", {}).update(headers)
        return operation

    def _refusals(self, operation) -> list[Refusal]:
        view, found = self.view, []
        parameters = operation.get("parameters", [])
        if "requestBody" in operation:
            found += [self._validation_error(), MALFORMED_JSON, PAYLOAD_TOO_LARGE]
        authentication = list(view.authentication_classes)
        if authentication:
            open_to_all = any(
                isinstance(p, type) and issubclass(p, AllowAny) for p in view.permission_classes
            )
            found += [INVALID_TOKEN] if open_to_all else [NOT_AUTHENTICATED, INVALID_TOKEN]
            session = any(issubclass(cls, SessionAuthentication) for cls in authentication)
            if session and self.method not in SAFE_METHODS:
                found.append(CSRF_FAILED)
        if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
            found.append(NOT_FOUND)
        found += getattr(self._handler(), "openapi_refusals", ())
        if found:
            found.append(DATABASE_UNAVAILABLE)
        return found

    def _validation_error(self) -> Refusal:
        """The example of a 400 validation_error: a required field of this body left out,
        or (a body without one) a field it does not declare."""
        serializer = force_instance(self.get_request_serializer())
        if isinstance(serializer, BaseSerializer):
            for name, field in serializer.fields.items():
                if field.required and not field.read_only:
                    return Refusal(400, "validation_error", "Invalid input.", {name: [REQUIRED]})
        return UNKNOWN_FIELD


class SessionScheme(OpenApiAuthenticationExtension):
    """drf-spectacular's cookie scheme, said plainly (the admin's session, in a browser)."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "A session signed in through /admin/: the browser sends the "
            "cookie by itself. A write also needs the `X-CSRFToken` header (this page adds "
            "it). Clients use `tokenAuth`.",
        }


# --- the API as a whole (a POSTPROCESSING_HOOKS entry) ---------------------------------
API_DESCRIPTION = """\
The shop's storefront: catalog, cart, orders and payments through Stripe.

**Authentication.** Get a token from `POST /api/v1/auth/token/` (or `auth/register/`) and
send it as `Authorization: Token <key>`. In this page: *Authorize*, then paste
`Token <key>` (the word `Token`, a space, the key) into `tokenAuth`.

**Idempotency-Key.** The POSTs that place, cancel or pay an order need an
`Idempotency-Key` header: any string of at most 255 characters, new for each action (a
UUID will do). Sending the same key again with the same request replays the first answer.

**Errors.** Every error has the body `{"error": {"code": ..., "message": ...}}`, with
`fields` for validation errors; branch on `code`. 429 and 503 carry `Retry-After`.

**Money.** Amounts are integers in the currency's minor units (`2500` USD is $25.00).
"""

TAGS = [
    {"name": "Accounts", "description": "Registering, getting and revoking API tokens."},
    {"name": "Catalog", "description": "The products on sale (no account needed)."},
    {"name": "Cart", "description": "The shopper's cart: one currency, at most 100 lines."},
    {"name": "Orders", "description": "Placing an order reserves its stock; cancelling."},
    {"name": "Payments", "description": "Starting a payment with Stripe, and its state."},
    {"name": "Health", "description": "Liveness and readiness probes."},
]


def describe_api(result, generator, request, public):
    result["info"]["description"] = API_DESCRIPTION
    result["tags"] = TAGS
    return result
