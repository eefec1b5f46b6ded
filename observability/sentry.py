"""Error reporting to Sentry, on only when `SENTRY_DSN` is set.

Nothing personal or secret leaves: `send_default_pii=False` (no user e-mail, IP or
cookies), no local variables in stack frames (they hold keys, client secrets and shopper
data), and every event and breadcrumb goes through the same redaction as the logs before
it is sent.
"""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from observability.redaction import redact


def scrub_event(event, hint):
    return redact(event)


def scrub_breadcrumb(crumb, hint):
    return redact(crumb)


def init(dsn: str, *, environment: str, release: str = "", transport=None) -> None:
    """`transport` is for tests: a sentry_sdk Transport that keeps events in memory."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
        transport=transport,
    )
