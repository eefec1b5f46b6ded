"""bench.settings plus an account of where a gunicorn worker's CPU goes, per named part.

Selected with DJANGO_SETTINGS_MODULE=bench.cpu_parts by `bench/run ingest_parts` only. On
its first request each worker wraps the functions below; each wrapper adds the thread's CPU
time (`time.thread_time_ns`, so waits in send/recv, which py-spy samples too, do not count)
spent in the function minus what the wrapped functions it calls spent. Every 100 requests
the worker writes its totals to BENCH_CPU_PARTS_DIR/<pid>.json.
"""

import collections
import functools
import importlib
import json
import os
import time

from bench.settings import *  # noqa: F403
from bench.settings import MIDDLEWARE as _SHOP_MIDDLEWARE

MIDDLEWARE = ["bench.cpu_parts.CpuParts", *_SHOP_MIDDLEWARE]

_exclusive: collections.Counter = collections.Counter()
_stack: list[int] = []
_state = {"requests": 0, "wrapped": False}

# (module, attribute holder, attribute, part); None as the holder: the module itself.
WRAPPED = [
    ("gunicorn.workers.sync", "SyncWorker", "handle", "gunicorn"),
    ("django.core.handlers.wsgi", "WSGIHandler", "__call__", "django handler, signals"),
    ("django.dispatch", "Signal", "send", "django handler, signals"),
    ("django.core.handlers.base", "BaseHandler", "resolve_request", "URL resolution"),
    ("logging", "Logger", "handle", "request log line"),
    ("payments.webhooks.verification", None, "verify_signature", "signature check"),
    ("core.json_input", None, "loads", "JSON parsing"),
    ("payments.webhooks.verification", None, "parse_event", "JSON parsing"),
    ("payments.webhooks.inbox", None, "store_event", "INSERT"),
    ("payments.webhooks.inbox", None, "_insert_prepared", "INSERT"),
    ("payments.webhooks.processing", None, "hand_over", "Redis hand-over"),
    ("observability.metrics", None, "count", "Redis hand-over"),
    ("redis.client", "Pipeline", "execute", "Redis hand-over"),
]


def _wrap(holder, attribute: str, part: str) -> None:
    function = getattr(holder, attribute)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        started = time.thread_time_ns()
        _stack.append(0)
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.thread_time_ns() - started
            inner = _stack.pop()
            _exclusive[part] += spent - inner
            if _stack:
                _stack[-1] += spent

    setattr(holder, attribute, wrapper)


def _wrap_all() -> None:
    from django.conf import settings

    for module, holder, attribute, part in WRAPPED:
        target = importlib.import_module(module)
        _wrap(getattr(target, holder) if holder else target, attribute, part)
    seen = set()
    for path in settings.MIDDLEWARE[1:]:
        module, _, name = path.rpartition(".")
        owner = next(
            c
            for c in getattr(importlib.import_module(module), name).__mro__
            if "__call__" in c.__dict__
        )
        if owner not in seen:  # MiddlewareMixin: one wrapper for all that share it
            seen.add(owner)
            # the innermost middleware's time holds the view's own code
            _wrap(owner, "__call__", "middleware and the view's own code")


class CpuParts:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _state["wrapped"]:
            _state["wrapped"] = True
            _wrap_all()
        response = self.get_response(request)
        _state["requests"] += 1
        if _state["requests"] % 100 == 0:
            path = os.path.join(os.environ["BENCH_CPU_PARTS_DIR"], f"{os.getpid()}.json")
            with open(path, "w") as out:
                json.dump({"requests": _state["requests"], "ns": _exclusive}, out)
        return response
