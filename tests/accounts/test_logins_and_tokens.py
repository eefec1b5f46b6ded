"""Logins (one failure counter per account for every way in) and API tokens."""

import hashlib
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthToken
from tests.conftest import error_code
from tests.factories import PASSWORD, UserFactory, token_for

pytestmark = pytest.mark.django_db


def token_login(client, email, password, ip="198.51.100.1"):
    return client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, REMOTE_ADDR=ip
    )


def admin_login(client, email, password, ip="198.51.100.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def authed(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


class TestOneFailureCounterPerAccount:
    def test_after_five_failed_token_logins_the_right_password_gets_429(self, anon, client):
        staff = UserFactory(is_staff=True)
        for n in range(5):  # from five addresses: the count is the account's
            assert token_login(anon, staff.email, "wrong", ip=f"198.51.100.{n}").status_code == 400

        refused = token_login(anon, staff.email, PASSWORD, ip="192.0.2.77")
        assert refused.status_code == 429
        assert error_code(refused) == "too_many_failed_logins"
        assert 0 < int(refused["Retry-After"]) <= 15 * 60
        assert "token" not in refused.json()

        admin = admin_login(client, staff.email, PASSWORD, ip="192.0.2.78")
        assert admin.status_code == 429
        assert int(admin["Retry-After"]) > 0
        assert "_auth_user_id" not in client.session

        other = UserFactory()
        assert token_login(anon, other.email, PASSWORD).status_code == 200

    def test_failed_admin_logins_lock_the_token_endpoint_too(self, anon, client):
        staff = UserFactory(is_staff=True)
        for n in range(5):
            assert (
                admin_login(client, staff.email, "wrong", ip=f"198.51.100.{n}").status_code == 200
            )
        refused = token_login(anon, staff.email.upper(), PASSWORD, ip="192.0.2.9")
        assert refused.status_code == 429
        assert error_code(refused) == "too_many_failed_logins"

    def test_the_lock_ends_with_the_window(self, anon, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_failures": {"ip": "100/2s", "account": "2/2s"},
        }
        user = UserFactory()
        token_login(anon, user.email, "wrong")
        token_login(anon, user.email, "wrong")
        refused = token_login(anon, user.email, PASSWORD)
        assert refused.status_code == 429
        time.sleep(int(refused["Retry-After"]) + 0.5)
        assert token_login(anon, user.email, PASSWORD).status_code == 200

    def test_failed_logins_per_address_are_limited_too(self, anon, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_failures": {"ip": "3/15m", "account": "100/15m"},
        }
        for n in range(3):
            assert token_login(anon, f"guess{n}@example.com", "x").status_code == 400
        limited = token_login(anon, "guess9@example.com", "x")
        assert limited.status_code == 429
        assert error_code(limited) == "too_many_failed_logins"
        assert token_login(anon, "guess9@example.com", "x", ip="192.0.2.1").status_code == 400


class TestRegistrationLimit:
    def test_registrations_are_limited_per_address_per_day(self, anon, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register": {"ip": "2/d"}}
        codes = [
            anon.post(
                "/api/v1/auth/register/",
                {"email": f"new{n}@example.com", "password": PASSWORD},
                REMOTE_ADDR="198.51.100.5",
            ).status_code
            for n in range(3)
        ]
        assert codes == [201, 201, 429]
        other = anon.post(
            "/api/v1/auth/register/",
            {"email": "elsewhere@example.com", "password": PASSWORD},
            REMOTE_ADDR="198.51.100.6",
        )
        assert other.status_code == 201

    def test_the_default_is_ten_a_day(self, settings):
        assert settings.RATE_LIMITS["register"] == {"ip": "10/d"}


class TestTokens:
    def test_tokens_are_hashed_at_rest(self, anon):
        body = anon.post(
            "/api/v1/auth/register/", {"email": "n@example.com", "password": PASSWORD}
        ).json()
        issued = token_login(anon, "n@example.com", PASSWORD).json()["token"]
        table = AuthToken._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            rows = repr(cursor.fetchall())
        assert AuthToken.objects.count() == 2
        for key in (body["token"], issued):
            assert key not in rows
            assert hashlib.sha256(key.encode()).hexdigest() in rows
            assert authed(key).get("/api/v1/cart/").status_code == 200

    def test_each_login_issues_a_new_token_that_expires(self, anon, settings):
        settings.AUTH_TOKEN_TTL_HOURS = 2
        user = UserFactory()
        first = token_login(anon, user.email, PASSWORD).json()["token"]
        second = token_login(anon, user.email, PASSWORD).json()["token"]
        assert first != second
        expiries = [t.expires_at - t.created_at for t in AuthToken.objects.filter(user=user)]
        assert expiries == [timedelta(hours=2)] * 2

    def test_an_expired_token_gets_401_and_goes_at_the_next_login(self, anon):
        user = UserFactory()
        key = token_for(user)
        AuthToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = authed(key).get("/api/v1/cart/")
        assert response.status_code == 401
        assert error_code(response) == "invalid_token"

        fresh = token_login(anon, user.email, PASSWORD).json()["token"]
        assert [t.digest for t in AuthToken.objects.filter(user=user)] == [
            hashlib.sha256(fresh.encode()).hexdigest()
        ]

    def test_logout_revokes_the_callers_token_only(self):
        user = UserFactory()
        kept, revoked = token_for(user), token_for(user)
        response = authed(revoked).post("/api/v1/auth/logout/")
        assert response.status_code == 204
        assert authed(revoked).get("/api/v1/cart/").status_code == 401
        assert authed(revoked).post("/api/v1/auth/logout/").status_code == 401
        assert authed(kept).get("/api/v1/cart/").status_code == 200

    def test_logout_without_a_token_is_401(self, anon):
        response = anon.post("/api/v1/auth/logout/")
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"

    def test_a_password_change_revokes_every_token(self):
        user = UserFactory()
        keys = [token_for(user), token_for(user)]
        user.set_password("a-new-password-42")
        user.save()
        assert [authed(k).get("/api/v1/cart/").status_code for k in keys] == [401, 401]
        assert not AuthToken.objects.filter(user=user).exists()

    def test_a_password_change_in_the_admin_revokes_every_token(self, client):
        shopper = UserFactory()
        key = token_for(shopper)
        boss = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(boss)
        changed = client.post(
            f"/admin/accounts/user/{shopper.pk}/password/",
            {"password1": "a-new-password-42", "password2": "a-new-password-42"},
        )
        assert changed.status_code == 302
        assert authed(key).get("/api/v1/cart/").status_code == 401

    def test_saving_a_user_without_a_new_password_keeps_tokens(self):
        user = UserFactory()
        key = token_for(user)
        user.first_name = "Ann"
        user.save()
        assert authed(key).get("/api/v1/cart/").status_code == 200

    def test_no_admin_page_lists_tokens(self, client):
        boss = UserFactory(is_staff=True, is_superuser=True)
        key = token_for(UserFactory())
        client.force_login(boss)
        index = client.get("/admin/")
        assert index.status_code == 200
        listed = [m["object_name"] for app in index.context["app_list"] for m in app["models"]]
        assert listed and not [name for name in listed if "token" in name.lower()]
        assert client.get("/admin/authtoken/").status_code == 404
        assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
        assert client.get("/admin/accounts/authtoken/").status_code == 404
        for app in index.context["app_list"]:
            for model in app["models"]:
                page = client.get(model["admin_url"])
                assert key.encode() not in page.content

    def test_the_schema_still_builds_and_documents_token_auth(self, anon):
        response = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        text = response.content.decode()
        assert "/api/v1/auth/logout/" in text
        assert '"tokenAuth"' in text or "tokenAuth" in text
