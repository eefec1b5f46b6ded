"""Which client a request comes from, for every per-client control, and when limits give way."""

import logging
import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from api.ratelimits import enforce, rate_limits_not_enforced
from audit.models import AuditEntry
from core.client_address import UNKNOWN, client_address
from devstack import ROOT
from observability import alerts, metrics
from tests.conftest import error_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

factory = RequestFactory()


def request_from(peer: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return factory.get("/", **extra)


class TestClientAddress:
    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self, settings):
        settings.TRUSTED_PROXIES = ["10.0.0.1"]
        assert client_address(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"

    def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(self, settings):
        settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
        # The client wrote "1.2.3.4" itself; nginx appended the address it saw, then a
        # second trusted hop appended its own.
        forwarded = "1.2.3.4, 198.51.100.7, 10.0.0.2"
        assert client_address(request_from("10.0.0.1", forwarded)) == "198.51.100.7"

    def test_a_trusted_proxy_without_forwarded_for_is_itself_the_client(self, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        assert client_address(request_from("127.0.0.1")) == "127.0.0.1"

    def test_a_unix_socket_is_trusted_only_when_listed(self, settings):
        settings.TRUSTED_PROXIES = []
        assert client_address(request_from("", "198.51.100.7")) == UNKNOWN
        settings.TRUSTED_PROXIES = ["unix"]
        assert client_address(request_from("", "198.51.100.7")) == "198.51.100.7"
        assert client_address(request_from("", "")) == UNKNOWN

    def test_garbage_is_the_unknown_client(self, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        assert client_address(request_from("127.0.0.1", "<script>, 198.51.100.7")) == (
            "198.51.100.7"
        )
        assert client_address(request_from("127.0.0.1", "198.51.100.7, nonsense")) == UNKNOWN
        assert client_address(request_from("not an address")) == UNKNOWN


class TestLimitsUseTheClientAddress:
    def token_attempt(self, anon, peer, forwarded_for=None):
        extra = {"REMOTE_ADDR": peer}
        if forwarded_for:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
        return anon.post(
            "/api/v1/auth/token/", {"email": "x@example.com", "password": "nope"}, **extra
        )

    def test_a_spoofed_forwarded_for_does_not_buy_a_fresh_bucket(self, anon, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": {"ip": "2/h"}}
        codes = [
            self.token_attempt(anon, "203.0.113.9", f"198.51.100.{n}").status_code for n in range(3)
        ]
        assert codes == [400, 400, 429]

    def test_shoppers_behind_a_trusted_proxy_have_separate_buckets(self, anon, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": {"ip": "2/h"}}
        first = [self.token_attempt(anon, "127.0.0.1", "198.51.100.1").status_code for _ in "abc"]
        assert first == [400, 400, 429]
        assert self.token_attempt(anon, "127.0.0.1", "198.51.100.2").status_code == 400

    def test_requests_without_an_address_share_one_limited_bucket(self, anon, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": {"ip": "2/h"}}
        codes = [self.token_attempt(anon, "").status_code for _ in range(3)]
        assert codes == [400, 400, 429]

    def test_twenty_bad_logins_behind_a_proxy_do_not_lock_out_other_shoppers(self, anon, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        for n in range(20):
            bad = anon.post(
                "/api/v1/auth/token/",
                {"email": f"victim{n}@example.com", "password": "wrong"},
                REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            )
            assert bad.status_code == 400
        shopper = UserFactory()
        good = anon.post(
            "/api/v1/auth/token/",
            {"email": shopper.email, "password": PASSWORD},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="192.0.2.50",
        )
        assert good.status_code == 200
        staff = UserFactory(is_staff=True)
        admin = anon.post(
            "/admin/login/?next=/admin/",
            {"username": staff.email, "password": PASSWORD, "next": "/admin/"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="192.0.2.51",
            format="multipart",
        )
        assert admin.status_code == 302

    def test_audit_entries_carry_the_client_address(self, anon, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        anon.post(
            "/api/v1/auth/register/",
            {"email": "new@example.com", "password": PASSWORD},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.23",
        )
        entry = AuditEntry.objects.get(action="user.registered")
        assert entry.ip_address == "198.51.100.23"

    def test_the_webhook_allow_list_uses_the_client_address(self, anon, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]
        settings.WEBHOOK_ALLOWED_IPS = ["3.18.12.63"]
        forged = anon.post(
            "/api/v1/webhooks/stripe/",
            {},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.23",
        )
        assert forged.status_code == 403
        assert error_code(forged) == "forbidden_sender"
        stripe = anon.post(
            "/api/v1/webhooks/stripe/",
            {},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="3.18.12.63",
        )
        assert stripe.status_code == 400  # allowed through; refused for its missing signature


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


class TestCacheOutage:
    def test_an_unreachable_cache_lets_requests_through_and_says_so(self, anon, settings, caplog):
        metrics.reset()
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": {"ip": "1/h"}}
        settings.CACHES = UNREACHABLE_REDIS
        user = UserFactory()
        with caplog.at_level(logging.WARNING):
            answers = [
                anon.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
                for _ in range(3)
            ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert any("not enforced" in r.getMessage() for r in caplog.records)
        skipped = metrics.read_counter("rate_limits_skipped")
        assert skipped[("auth",)] >= 3
        assert AuditEntry.objects.filter(action="rate_limit.not_enforced").exists()

        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        assert alerts.check({"rate_limits_not_enforced": rate_limits_not_enforced}) == {
            "rate_limits_not_enforced": "fired"
        }

    def test_an_unreachable_cache_does_not_open_the_admin_login(self, client, settings):
        settings.CACHES = UNREACHABLE_REDIS
        staff = UserFactory(is_staff=True)
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": staff.email, "password": PASSWORD, "next": "/admin/"},
        )
        assert response.status_code == 302  # served, as the API is

    def test_any_other_cache_error_is_not_swallowed(self, settings):
        class Broken(Exception):
            pass

        settings.CACHES = {"default": {"BACKEND": "tests.core.test_client_address.BrokenCache"}}
        BrokenCache.error = Broken
        with pytest.raises(Broken):
            enforce(request_from("203.0.113.9"), "auth")


class BrokenCache:
    """A cache whose counters fail with something other than a connection error."""

    error = RuntimeError

    def __init__(self, *args, **kwargs):
        pass

    def add(self, *args, **kwargs):
        raise self.error("misconfigured")

    incr = get = set = add

    def close(self, **kwargs):
        pass

    def clear(self):
        pass


@pytest.mark.parametrize(
    "variable, value",
    [
        ("TRUSTED_PROXIES", "10.0.0.300"),
        ("TRUSTED_PROXIES", "127.0.0.1,proxy.internal"),
        ("WEBHOOK_ALLOWED_IPS", "stripe"),
        ("RATE_LIMIT_AUTH_PER_IP", "lots"),
        ("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", "5 per hour"),
    ],
)
def test_malformed_settings_stop_start_up(variable, value):
    env = {**os.environ, variable: value}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert variable.removeprefix("RATE_LIMIT_") in started.stderr or value in started.stderr
