"""Stripe, payment limits, the webhook inbox, the dj-stripe mirror, reconciliation."""

import os

from config.settings.base import DEBUG, VAR_DIR, env
from config.settings.services import CELERY_TASK_ALWAYS_EAGER
from core import dev_stripe
from core.client_address import parse_networks

# --- Stripe ------------------------------------------------------------------------------
# Where the Stripe variables come from: the environment, then .env, then the file `make run`
# writes for its offline emulator (var/dev-stripe.env, core/dev_stripe.py), which is used
# only when STRIPE_SECRET_KEY is set in neither and while that emulator runs.
DEV_STRIPE_FILE = VAR_DIR / dev_stripe.FILE_NAME
_dev_stripe = dev_stripe.apply(DEV_STRIPE_FILE, os.environ)
# The address of make run's emulator once it stopped: Stripe calls then say so.
STRIPE_EMULATOR_STOPPED = _dev_stripe.stopped_emulator
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
# dj-stripe mirrors the Stripe objects we touch (read-only, for staff); see
# payments/gateway/mirror.py.
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
# A malformed value stops start-up here (ImproperlyConfigured), never a request later.
parse_networks(WEBHOOK_ALLOWED_IPS, setting="WEBHOOK_ALLOWED_IPS")
