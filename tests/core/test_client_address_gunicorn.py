"""A real gunicorn, on a Unix socket and behind a trusted proxy: limits hold, per client.

django-ratelimit raised ImproperlyConfigured on a Unix socket (REMOTE_ADDR is empty), the
code swallowed it and every limit failed open; behind a proxy all shoppers shared the
proxy's bucket. These run the project as it is deployed, with a real Redis.
"""

import os
import tempfile
import uuid
from pathlib import Path

import pytest

from devstack import Gunicorn, RedisServer, current_database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BAD_LOGIN = {"email": "nobody@example.com", "password": "wrong-password"}


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def serve(redis_server):
    started = []

    def start(*, unix_socket: bool, **env) -> Gunicorn:
        overrides = {
            "DEBUG": "true",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": current_database_url(),
            "REDIS_URL": redis_server.url,
            "CACHE_KEY_PREFIX": f"t-{uuid.uuid4().hex[:8]}",  # fresh counters per server
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "RATE_LIMIT_AUTH_PER_IP": "3/h",
            **env,
        }
        socket_path = None
        if unix_socket:
            socket_path = str(Path(tempfile.mkdtemp(prefix="gunicorn-")) / "shop.sock")
        web = Gunicorn({**os.environ, **overrides}, socket_path=socket_path, workers=1)
        started.append(web)
        return web.start()

    yield start
    for web in started:
        web.stop()


def bad_logins(web: Gunicorn, count: int, forwarded_for: str | None = None) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [web.request("POST", "/api/v1/auth/token/", BAD_LOGIN, headers)[0] for _ in range(count)]


def assert_nothing_raised(web: Gunicorn) -> None:
    output = web.output()
    assert "Traceback" not in output and "ImproperlyConfigured" not in output, output[-3000:]
    assert "not enforced" not in output, output[-3000:]


def test_on_a_unix_socket_the_limit_still_trips(serve):
    # Given gunicorn on a Unix socket and no TRUSTED_PROXIES: no client address at all
    web = serve(unix_socket=True)

    # When one client (then a second, naming itself in X-Forwarded-For) tries four times
    first = bad_logins(web, 4)
    spoofed = bad_logins(web, 1, forwarded_for="198.51.100.9")

    # Then the one "unknown" client is limited, the header buys nothing, nothing raised
    assert first == [400, 400, 400, 429]
    assert spoofed == [429]
    status, headers, body = web.request("POST", "/api/v1/auth/token/", BAD_LOGIN)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(headers["Retry-After"]) > 0
    assert_nothing_raised(web)


def test_on_a_trusted_unix_socket_each_forwarded_client_has_its_own_bucket(serve):
    web = serve(unix_socket=True, TRUSTED_PROXIES="unix")

    assert bad_logins(web, 4, forwarded_for="198.51.100.1") == [400, 400, 400, 429]
    assert bad_logins(web, 1, forwarded_for="198.51.100.2") == [400]
    assert_nothing_raised(web)


def test_behind_a_trusted_proxy_two_clients_get_separate_buckets(serve):
    # Given gunicorn on TCP behind a proxy on 127.0.0.1 (this test plays nginx)
    web = serve(unix_socket=False, TRUSTED_PROXIES="127.0.0.1")

    # When the first shopper goes over the limit
    first = bad_logins(web, 4, forwarded_for="203.0.113.5, 198.51.100.1")

    # Then the second shopper behind the same proxy is not affected, and a shopper who
    # writes someone else's address on the left of the header is still counted as itself
    assert first == [400, 400, 400, 429]
    assert bad_logins(web, 1, forwarded_for="198.51.100.2") == [400]
    assert bad_logins(web, 1, forwarded_for="198.51.100.2, 198.51.100.1") == [429]
    assert_nothing_raised(web)
