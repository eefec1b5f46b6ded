"""Settings, read from the environment (django-environ) with `.env` honoured when present.

With no environment at all the project runs on embedded development defaults: SQLite
under var/, local-memory cache, eager Celery tasks and console e-mail. Every variable is
listed, with its meaning, in .env.example.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)  # SQLite and other local state live here in development

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
INSECURE_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The project's bottom layers (docs/architecture.md); api before drf_spectacular, whose
    # docs page template it overrides.
    "core",
    "observability",
    "api",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djstripe",
    "corsheaders",
    "csp",
    "pgtrigger",  # database triggers: the audit trail refuses UPDATE and DELETE
    "accounts",
    "audit",
    "idempotency",
    "catalog",
    "orders",
    "payments",
    "demo_shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from collectstatic's output, before anything else runs (DEBUG off too).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "observability.request_log.RequestLogMiddleware",
    "observability.metrics.RateLimitedResponsesMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.csp.AdminInlineStylesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

# --- Cache, rate limits and Celery share Redis when REDIS_URL is set ----------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # one client per pool (core/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport, reusing its publishing client (core/broker.py)
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_BEAT_SCHEDULE = {
    # Alert conditions (observability.alerts, registered by the apps): staff hear once when
    # one starts and once when it ends.
    "check-alerts": {
        "task": "config.tasks.check_alerts",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Summary rows of ended windows of refused webhook deliveries (audit.rejections).
    "summarize-rejections": {
        "task": "audit.tasks.summarize_rejections",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "sweep-webhook-events": {
        "task": "payments.tasks.sweep_webhook_events",
        "schedule": 60.0,
    },
    "send-unsent-emails": {
        "task": "payments.tasks.send_unsent_emails",
        "schedule": 60.0,
    },
    # Kill switch off: close every open PaymentIntent/Session; else close those of shoppers
    # over a decline limit whose closing task was lost.
    "close-blocked-payments": {
        "task": "payments.tasks.close_blocked_payments",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Expire unpaid orders past their reservation, purge old idempotency keys, prune events
    # (core.housekeeping: the job each app registers).
    "cleanup": {
        "task": "config.tasks.cleanup",
        "schedule": 300.0,
        # A run left queued while no worker was up is dropped; the next one does the work.
        "options": {"expires": 240},
    },
    # Compare the last RECONCILE_WINDOW_HOURS with Stripe; mismatches show in the admin.
    "reconcile": {
        "task": "payments.tasks.reconcile",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}

# --- E-mail ------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@example.com")
STAFF_ALERT_EMAILS = env.list("STAFF_ALERT_EMAILS", default=["staff@example.com"])
# The right-hand side of outbox e-mails' stable Message-ID (<outbox-<id>@domain>).
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="shop.invalid")

# --- Auth --------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
# The default folder exists from the start, so whitenoise does not warn on every process
# start before the first collectstatic.
(VAR_DIR / "static").mkdir(exist_ok=True)
# whitenoise serves STATIC_ROOT (fill it with `manage.py collectstatic`); with DEBUG off the
# files get hashed, compressed names from the manifest and are cached for good by browsers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            # whitenoise's compressed manifest storage; a file collectstatic did not collect
            # is linked by its plain name (404) instead of making every page a 500.
            else "core.static_storage.ForgivingManifestStaticFilesStorage"
        )
    },
}

# Bodies larger than this are refused (413 on the API) before anything parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

# --- Storefront API ----------------------------------------------------------------------
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
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop payments storefront API",
    "DESCRIPTION": "Catalog, cart, orders and Stripe checkout. Amounts are in minor units.",
    "VERSION": "1.0.0",
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

# --- Shop rules ------------------------------------------------------------------------
ORDER_RESERVATION_MINUTES = env.int("ORDER_RESERVATION_MINUTES", default=30)
# A new order holds its stock only this long until a payment attempt exists; starting a
# payment stretches the hold to ORDER_RESERVATION_MINUTES (stock hoarding).
ORDER_HOLD_MINUTES = env.int("ORDER_HOLD_MINUTES", default=10)
# Orders one shopper may have waiting for payment (the next gets 409 too_many_pending_orders).
MAX_PENDING_ORDERS = env.int("MAX_PENDING_ORDERS", default=3)
# Units of one product one shopper may hold across their unpaid orders (409
# too_many_reserved_units).
MAX_RESERVED_PER_PRODUCT = env.int("MAX_RESERVED_PER_PRODUCT", default=20)
CART_MAX_LINES = 100
LINE_MAX_QUANTITY = 1000
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000/shop/")
# This shop's name in the metadata of everything it creates at Stripe. Stripe sends every
# event of an account to every endpoint; an event whose metadata names another shop (a
# staging or CI deployment on the same test account, another shop on a live account) is
# ignored. Give each deployment sharing a Stripe account its own value.
SHOP_ID = env.str("SHOP_ID", default="") or urlsplit(FRONTEND_URL).netloc.rpartition("@")[2].lower()
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

# --- Stripe ------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# The API version every request and every webhook endpoint is pinned to (stripe 15.x's).
STRIPE_API_VERSION = "2026-08-26.dahlia"
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# (connect, read) seconds for each HTTP call to Stripe.
STRIPE_TIMEOUTS = (
    env.float("STRIPE_CONNECT_TIMEOUT", default=5.0),
    env.float("STRIPE_READ_TIMEOUT", default=20.0),
)
STRIPE_BREAKER_THRESHOLD = env.int("STRIPE_BREAKER_THRESHOLD", default=5)
STRIPE_BREAKER_COOLDOWN_SECONDS = env.int("STRIPE_BREAKER_COOLDOWN_SECONDS", default=30)
STRIPE_DASHBOARD_URL = (
    "https://dashboard.stripe.com/test"
    if not STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))
    else "https://dashboard.stripe.com"
)
PAYMENTS_ENABLED = env.bool("PAYMENTS_ENABLED", default=True)
# Largest order total we will charge, in minor units (Stripe's own limit is 99,999,999).
PAYMENT_MAX_AMOUNT = env.int("PAYMENT_MAX_AMOUNT", default=99_999_999)
# A shopper with this many failed payment attempts in the last hour is stopped (429).
PAYMENT_FAILURES_PER_HOUR = env.int("PAYMENT_FAILURES_PER_HOUR", default=5)
# The same decline limit keyed by the client address that made the attempts (several
# shoppers can share one address: NAT, offices) and by the card's Stripe fingerprint.
PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR = env.int("PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR", default=15)
PAYMENT_FAILURES_PER_CARD_PER_HOUR = env.int("PAYMENT_FAILURES_PER_CARD_PER_HOUR", default=5)
# Declines one payment attempt may collect before its PaymentIntent/Session is closed.
PAYMENT_FAILURES_PER_ATTEMPT = env.int("PAYMENT_FAILURES_PER_ATTEMPT", default=3)
# At most one "payment failed" e-mail per order within this many minutes.
PAYMENT_FAILED_EMAIL_INTERVAL_MINUTES = env.int("PAYMENT_FAILED_EMAIL_INTERVAL_MINUTES", default=30)

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
# events are never throttled (payments.views._over_limit).
RATE_LIMITS["webhook"] = {"ip": env.str("RATE_LIMIT_WEBHOOK_PER_IP", default="600/m")}

# --- Webhook inbox -------------------------------------------------------------------
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
# Processing tries before an event is marked failed, and the first back-off (doubling).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=2.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=300.0)
# The sweep re-queues events still "received" this long after they were due.
WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=60)
# `manage.py cleanup` deletes processed and ignored events handled longer ago than this.
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
# Refused webhook deliveries are audited per client address and code in windows of this
# many seconds: one row at the first, one summary row with the count (audit.rejections).
AUDIT_REJECTION_WINDOW_SECONDS = env.int("AUDIT_REJECTION_WINDOW_SECONDS", default=60)
# dj-stripe mirrors the Stripe objects we touch (read-only, for staff); see payments/mirror.py.
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
# Its own webhook view is not mounted: our inbox receives Stripe's events.
DJSTRIPE_WEBHOOK_VALIDATION = "retrieve_event"
# Mirroring runs in Celery after an event is processed, never in the webhook request; with
# eager tasks (no broker) it would run inside the request, so it is off there by default.
MIRROR_STRIPE_OBJECTS = env.bool("MIRROR_STRIPE_OBJECTS", default=not CELERY_TASK_ALWAYS_EAGER)
# The restricted, read-only key dj-stripe reads with (no key is ever stored in a column).
# Without it the mirror is off in production: it would otherwise read with the secret key.
STRIPE_MIRROR_KEY = env.str("STRIPE_MIRROR_KEY", default="")
if not DEBUG and not STRIPE_MIRROR_KEY:
    MIRROR_STRIPE_OBJECTS = False

# --- Reconciliation (manage.py reconcile, and the hourly beat job) ------------------------
# How far back a run looks at payment attempts (`--since` overrides it).
RECONCILE_WINDOW_HOURS = env.float("RECONCILE_WINDOW_HOURS", default=24)
# The beat job repairs what it finds (as `--fix` does) only when this is on.
RECONCILE_AUTO_FIX = env.bool("RECONCILE_AUTO_FIX", default=False)
# An unpaid order this long past its reservation counts as stuck (cleanup missed it).
RECONCILE_STUCK_AFTER_MINUTES = env.int("RECONCILE_STUCK_AFTER_MINUTES", default=10)
# A refund reserved here but without a Stripe id this long after counts as never sent.
RECONCILE_REFUND_UNSENT_MINUTES = env.int("RECONCILE_REFUND_UNSENT_MINUTES", default=10)
WEBHOOK_ALLOWED_IPS = env.list("WEBHOOK_ALLOWED_IPS", default=[])
# Reverse proxies whose X-Forwarded-For we believe (IPs, CIDRs, or "unix" for a proxy on a
# Unix socket); see core/client_address.py and docs/deployment-proxy.md.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# A malformed value stops start-up here (ImproperlyConfigured), never a request later.
from core.client_address import parse_networks, parse_trusted_proxies  # noqa: E402

parse_trusted_proxies(TRUSTED_PROXIES)
parse_networks(WEBHOOK_ALLOWED_IPS, setting="WEBHOOK_ALLOWED_IPS")
SENTRY_DSN = env.str("SENTRY_DSN", default="")

# --- Observability (README "Observability") -------------------------------------------
# Bearer token Prometheus sends to GET /metrics; empty: the endpoint does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Alert thresholds (observability.alerts, checked every minute by beat).
ALERT_PAYMENT_FAILURE_RATE = env.float("ALERT_PAYMENT_FAILURE_RATE", default=0.5)
ALERT_PAYMENT_FAILURE_WINDOW_MINUTES = env.int("ALERT_PAYMENT_FAILURE_WINDOW_MINUTES", default=15)
ALERT_PAYMENT_FAILURE_MIN_PAYMENTS = env.int("ALERT_PAYMENT_FAILURE_MIN_PAYMENTS", default=10)
ALERT_WEBHOOK_SIGNATURE_FAILURES = env.int("ALERT_WEBHOOK_SIGNATURE_FAILURES", default=10)
# Events Stripe signed that were refused, or stored with NUL characters escaped (same window).
ALERT_WEBHOOK_SIGNED_REFUSALS = env.int("ALERT_WEBHOOK_SIGNED_REFUSALS", default=1)
ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES = env.int(
    "ALERT_WEBHOOK_SIGNATURE_WINDOW_MINUTES", default=15
)
ALERT_WEBHOOK_FAILED_EVENTS = env.int("ALERT_WEBHOOK_FAILED_EVENTS", default=1)
ALERT_RECONCILIATION_MISMATCHES = env.int("ALERT_RECONCILIATION_MISMATCHES", default=1)
ALERT_DISPUTES_OPENED = env.int("ALERT_DISPUTES_OPENED", default=1)
ALERT_DISPUTES_WINDOW_HOURS = env.int("ALERT_DISPUTES_WINDOW_HOURS", default=24)
# Rate limits skipped because the cache was unreachable (api.ratelimits), in a window.
ALERT_RATE_LIMITS_NOT_ENFORCED = env.int("ALERT_RATE_LIMITS_NOT_ENFORCED", default=1)
ALERT_RATE_LIMITS_WINDOW_MINUTES = env.int("ALERT_RATE_LIMITS_WINDOW_MINUTES", default=15)
if SENTRY_DSN:
    from observability.sentry import init as init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# --- Production hardening: on whenever DEBUG is off ----------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/"]
if not DEBUG:
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True

# JSON lines on stderr through structlog, with ids bound and secrets redacted
# (observability.logging). LOG_FORMAT=console renders the same events readably for development.
from observability.logging import logging_config  # noqa: E402

LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="json")
)
# Celery must not replace these handlers with its own plain-text ones in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Strict Content-Security-Policy (django-csp 4); /shop/ alone may load Stripe.js.
from core.csp import POLICY as CSP_POLICY  # noqa: E402

CONTENT_SECURITY_POLICY = CSP_POLICY

CSRF_FAILURE_VIEW = "api.views.csrf_failure"
