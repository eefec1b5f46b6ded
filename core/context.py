"""Who is asking, for the current request or task: read by audit and logging."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    user_agent: str = ""


current_request: ContextVar[RequestContext] = ContextVar(
    "current_request",
    default=RequestContext(),  # noqa: B039 (immutable dataclass)
)
