"""Django itself: environment, apps, middleware, templates, database, static files, security.

`env` (django-environ, `.env` honoured when present) is shared by every settings module.
"""

from pathlib import Path

import environ

from core.client_address import parse_trusted_proxies
from core.csp import POLICY as CSP_POLICY

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Local state in development: the SQLite database, static files, and the file `make run`
# writes its Stripe emulator's settings to (var/ of the checkout; relative to it if relative).
VAR_DIR = BASE_DIR / env.str("VAR_DIR", default="var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

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
    "notifications",
    "idempotency",
    "catalog",
    "orders",
    "payments",
    "backoffice",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Development has several writers at once: runserver's threads, the emulator's webhooks
    # (processed inside the server with eager tasks), a command in a second terminal.
    # BEGIN IMMEDIATE takes the write lock when a transaction starts, so a transaction never
    # fails upgrading a read lock ("database is locked" at once); it waits up to `timeout`
    # seconds for the writer before it instead. That also gives every `select_for_update`
    # block (a no-op on SQLite) the one-writer-at-a-time order it asks for. WAL lets reads
    # go on while one transaction writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

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

# Reverse proxies whose X-Forwarded-For we believe (IPs, CIDRs, or "unix" for a proxy on a
# Unix socket); see core/client_address.py and docs/deployment-proxy.md.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# A malformed value stops start-up here (ImproperlyConfigured), never a request later.
parse_trusted_proxies(TRUSTED_PROXIES)

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
# Strict Content-Security-Policy (django-csp 4); /shop/ alone may load Stripe.js.
CONTENT_SECURITY_POLICY = CSP_POLICY
CSRF_FAILURE_VIEW = "api.views.csrf_failure"
