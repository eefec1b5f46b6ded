"""Redis (cache, rate-limit counters, metrics), Celery and its beat schedule, e-mail."""

from config.settings.base import env

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
# Celery closes the database connection around every task unless this is set; the worker
# keeps it and applies CONN_MAX_AGE and the health check itself (core/task_connections.py).
CELERY_DB_REUSE_MAX = 2**62
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
    # The e-mail outbox (notifications.tasks; the task keeps the name it had in payments).
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
