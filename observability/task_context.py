"""The request id follows a request into the Celery tasks it queues.

When a task is published inside a request, its id travels in the message headers
(`shop_request_id`); the worker binds it before the task runs, for the task's log lines and
for the audit entries it writes. Tasks queued with no request (beat, the sweep) get their
own fresh id, so their lines can still be grouped.
"""

import uuid

import structlog
from celery.signals import before_task_publish, task_postrun, task_prerun

from core.context import RequestContext, current_request

HEADER = "shop_request_id"
_tokens: dict[str, object] = {}


@before_task_publish.connect(weak=False)
def put_request_id_in_headers(sender=None, headers=None, **kwargs):
    request_id = current_request.get().request_id
    if request_id and headers is not None:
        headers[HEADER] = request_id


@task_prerun.connect(weak=False)
def bind_task_context(task_id=None, task=None, **kwargs):
    incoming = getattr(task.request, HEADER, None) if task is not None else None
    if task is not None and task.request.is_eager:
        # Run inline by the publisher: the request's context is already in place.
        structlog.contextvars.bind_contextvars(task=task.name)
        return
    request_id = incoming if isinstance(incoming, str) and incoming else uuid.uuid4().hex
    _tokens[task_id] = current_request.set(RequestContext(request_id=request_id))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task=getattr(task, "name", None), task_id=task_id)


@task_postrun.connect(weak=False)
def unbind_task_context(task_id=None, task=None, **kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        current_request.reset(token)
        structlog.contextvars.clear_contextvars()
    else:
        structlog.contextvars.unbind_contextvars("task")
