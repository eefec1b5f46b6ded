"""One redis-py client for the shop's own keys on REDIS_URL: metrics and the webhook hand-over.

A `redis.Redis` is safe to share between threads (each command borrows a pooled
connection), so a process needs one. It is rebuilt when REDIS_URL changes (tests).
"""

import threading

from django.conf import settings

DEFAULT_PREFIX = "shop"

_lock = threading.Lock()
_client = None
_client_url = None


def client():
    """The shared client, or None without REDIS_URL (development: everything in-process)."""
    global _client, _client_url
    url = settings.REDIS_URL
    if not url:
        return None
    with _lock:
        if _client is None or _client_url != url:
            import redis

            _client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            _client_url = url
        return _client


def key(name: str) -> str:
    # The cache's prefix keeps two shops sharing one Redis database apart.
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or DEFAULT_PREFIX
    return f"{prefix}:{name}"
