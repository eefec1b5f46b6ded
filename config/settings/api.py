"""The storefront API: DRF, the schema, Idempotency-Key, CORS, rate limits, API tokens."""

from datetime import timedelta

from config.settings.base import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an unauthenticated call gets 401 with WWW-Authenticate.
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Depth, number and text limits on every JSON body (core/json_input.py, through api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.openapi.ShopAutoSchema",  # error responses, Idempotency-Key
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop payments storefront API",
    "VERSION": "1.0.0",
    # The description and the tags: api/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.openapi.describe_api",
    ],
    # The `id` path converter (api/converters.py): at most 18 digits.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1}
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the installed sidecar package: the docs page needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

IDEMPOTENCY_KEY_RETENTION = timedelta(hours=env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24))
# A key left "in progress" longer than this belongs to a request that died; it may be taken over.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(
    seconds=env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=120)
)


CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# CORS (django-cors-headers) on the API only; token auth, so no cookies cross origins.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After", "X-Request-ID"]


# Rate limits (django-ratelimit on the shared cache), "count/period" with s, m, h or d.
RATE_LIMITS = {
    "auth": {"ip": env.str("RATE_LIMIT_AUTH_PER_IP", default="20/m")},
    "order_create": {
        "user": env.str("RATE_LIMIT_ORDERS_PER_USER", default="30/m"),
        "ip": env.str("RATE_LIMIT_ORDERS_PER_IP", default="120/m"),
    },
    "payment_create": {
        "user": env.str("RATE_LIMIT_PAYMENTS_PER_USER", default="20/m"),
        "ip": env.str("RATE_LIMIT_PAYMENTS_PER_IP", default="60/m"),
    },
}
RATELIMIT_USE_CACHE = "default"
# Failed logins, every way in (admin login, POST auth/token/; accounts.login_throttle):
# past either limit that account or client address gets 429 until the window has passed.
RATE_LIMITS["login_failures"] = {
    "ip": env.str("RATE_LIMIT_LOGIN_FAILURES_PER_IP", default="20/15m"),
    "account": env.str("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", default="5/15m"),
}
# Registrations per client address (POST auth/register/), counted whatever the outcome.
RATE_LIMITS["register"] = {"ip": env.str("RATE_LIMIT_REGISTRATIONS_PER_IP", default="10/d")}
# API tokens (accounts.AuthToken, stored hashed) expire this many hours after issue.
AUTH_TOKEN_TTL_HOURS = env.int("AUTH_TOKEN_TTL_HOURS", default=720)
# Refused (bad signature, size, sender) and repeated deliveries per address; new signed
# events are never throttled (payments.webhooks.views._over_limit).
RATE_LIMITS["webhook"] = {"ip": env.str("RATE_LIMIT_WEBHOOK_PER_IP", default="600/m")}
