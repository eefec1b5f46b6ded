"""Structured logs: one JSON object per line (LOG_FORMAT=json, the default with DEBUG off) or
one readable line (console, the default in development), with the ids an operator searches by.

Every stdlib logger in the project (and Django's, Celery's, the SDK's) goes through one
structlog `ProcessorFormatter`, so existing `logger.info("... %s", x)` calls keep their
message (in the `event` field; `ALERT ...` lines still start with `ALERT`) and gain:

- `request_id` (from core.context, which the request-id middleware and Celery's
  task_prerun set), `user_id` (the request's authenticated user, once known),
- whatever `bind()` put in the context: `order_id`, `attempt_id`, `stripe_event_id`,
  `event_type`, `task`, ...

The last processor before rendering is the redaction (observability.redaction): no secret key,
webhook secret, client secret, token, full e-mail address or card number reaches a line.
"""

import functools
import logging
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

from core.context import current_request
from observability.redaction import redact

# The HttpRequest being served, so the user id can be read once authentication is done
# (DRF authenticates inside the view, after every middleware has run).
current_http_request: ContextVar = ContextVar("current_http_request", default=None)


def bind(**ids) -> None:
    """Add ids (order_id=..., attempt_id=...) to every line logged from here on."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in ids.items() if v not in (None, "")})


@contextmanager
def bound(**ids):
    """`bind` for the length of a block, restoring what was bound before."""
    with structlog.contextvars.bound_contextvars(
        **{k: v for k, v in ids.items() if v not in (None, "")}
    ):
        yield


def scoped(function):
    """Decorator: whatever the function binds is unbound when it returns."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        saved = structlog.contextvars.get_contextvars()
        try:
            return function(*args, **kwargs)
        finally:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**saved)

    return wrapper


def _user_id(request):
    # Never evaluate a lazy user here: that would query the database from a log call.
    user = request.__dict__.get("user")
    if user is None:
        return None
    if getattr(user, "_wrapped", None) is not None and not hasattr(user._wrapped, "pk"):
        return None  # SimpleLazyObject not evaluated yet
    try:
        return user.pk if user.is_authenticated else None
    except Exception:
        return None


def add_request_context(logger, method_name, event_dict):
    context = current_request.get()
    if context.request_id:
        event_dict.setdefault("request_id", context.request_id)
    request = current_http_request.get()
    if request is not None and "user_id" not in event_dict:
        user_id = _user_id(request)
        if user_id is not None:
            event_dict["user_id"] = user_id
    return event_dict


def _plain(value):
    """Objects (a request, a model) become their text before redaction, not after it."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def redact_event(logger, method_name, event_dict):
    return redact(_plain(event_dict))


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    add_request_context,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
]


FORMATS = ("console", "json")


def _renderer(fmt: str):
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "console":  # development: readable, still redacted
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(sort_keys=False, default=str)


# runserver's access line, `"GET /path HTTP/1.1" 200 123` (django.core.servers.basehttp).
SERVER_ACCESS_LINE = '"%s" %s %s'


class WithoutServerAccessLines(logging.Filter):
    """Drops runserver's own line per request: RequestLogMiddleware logs every request
    already (with its ids, route, client and duration), so each would appear twice. Its
    other lines (a TLS handshake on the plain HTTP port, ...) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != SERVER_ACCESS_LINE


def formatter(fmt: str = "json") -> dict:
    """A `logging.config` formatter entry rendering through structlog."""
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": SHARED_PROCESSORS,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            _renderer(fmt),
        ],
    }


def logging_config(level: str = "INFO", fmt: str = "json") -> dict:
    """Django's LOGGING: everything to stderr through the structlog formatter."""
    configure_structlog()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter(fmt)},
        "filters": {"no_server_access_lines": {"()": WithoutServerAccessLines}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own default handlers (plain console in DEBUG, mail_admins) would
            # print a second, unredacted copy of its lines: everything goes through ours.
            "django": {"handlers": [], "propagate": True},
            "django.server": {
                "handlers": [],
                "propagate": True,
                "filters": ["no_server_access_lines"],
            },
            "django.db.backends": {"level": "WARNING"},
            # The SDK's INFO/DEBUG lines carry request bodies (e-mail addresses) and
            # Stripe's raw error text; payments.gateway.client logs what operators need.
            "stripe": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers (structlog.get_logger()) render through the same handler."""
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
