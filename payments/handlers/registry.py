"""Which handler applies a Stripe event, and the events no handler applies.

Handlers register themselves with @handles (one per event type). The inbox stores an
event whose type has none as ignored at once (`has_handler`, payments.webhooks.inbox);
`dispatch` (a replay of one) ignores it again, and ignores an event whose livemode is not
that of the configured key, or whose object names another shop; otherwise the handler's
note, or its `Ignore`, becomes the inbox row's status and note. `WaitForDependency` goes
up to processing, which retries.
"""

from collections.abc import Callable

from django.conf import settings

from payments.handlers.stripe_objects import metadata, names_another_shop
from payments.models import WebhookEvent

PROCESSED = WebhookEvent.Status.PROCESSED
IGNORED = WebhookEvent.Status.IGNORED


class WaitForDependency(Exception):
    """A row this event needs is not recorded yet: process the event again later."""


class Ignore(Exception):
    """The event is not about anything of ours (foreign metadata, unknown order)."""


HANDLERS: dict[str, Callable[[WebhookEvent], str | None]] = {}


def handles(*event_types: str):
    def register(function):
        for event_type in event_types:
            HANDLERS[event_type] = function
        return function

    return register


NO_HANDLER = "no handler for this event type"


def has_handler(event_type: str) -> bool:
    """Whether a handler applies this type; the inbox stores any other type ignored."""
    return event_type in HANDLERS


def dispatch(event: WebhookEvent) -> tuple[str, str]:
    """Apply the event; returns (status, note) for the inbox row."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return IGNORED, NO_HANDLER
    if event.livemode != settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_")):
        return IGNORED, "livemode does not match the configured key"
    if names_another_shop(event.data_object):
        shop = str(metadata(event.data_object).get("shop"))[:60]
        return IGNORED, f"metadata names another shop ({shop!r})"
    try:
        note = handler(event)
    except Ignore as exc:
        return IGNORED, str(exc)
    return PROCESSED, note or ""
