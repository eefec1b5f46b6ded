"""Security headers, the Content-Security-Policy, CORS, CSRF and the admin login throttle."""

import re

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from observability import metrics
from tests.csp import directives, inline_scripts
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    # With Redis the suite's cache.clear() empties them; without, they live in the process.
    metrics.reset()


STRIPE_HOSTS = ("js.stripe.com", "hooks.stripe.com", "api.stripe.com")


class TestHeaders:
    def test_an_api_response_carries_every_security_header(self, anon, product):
        response = anon.get("/api/v1/products/")
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Request-ID"]
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert not any(host in response["Content-Security-Policy"] for host in STRIPE_HOSTS)

    def test_hsts_is_sent_in_production_only(self, anon, settings):
        assert "Strict-Transport-Security" not in anon.get("/api/v1/health/", secure=True)
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
        response = APIClient().get("/api/v1/health/", secure=True)
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")


class TestContentSecurityPolicy:
    def test_the_demo_storefront_may_load_stripe_js_and_nothing_else(self, client):
        ProductFactory(name="Blue mug")
        response = client.get("/shop/")
        html = response.content.decode()
        assert response.status_code == 200
        policy = directives(response)
        assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
        assert policy["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
        assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
        assert policy["default-src"] == ["'self'"]
        for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
            assert response[header]
        assert 'src="https://js.stripe.com/v3/"' in html
        assert inline_scripts(html) == []
        assert "/static/shop/shop.js" in html
        assert finders.find("shop/shop.js") and finders.find("shop/shop.css")
        assert 'data-products-url="/api/v1/products/"' in html

    def test_the_admin_allows_its_inline_styles_but_no_foreign_or_inline_script(self, admin_client):
        response = admin_client.get("/admin/orders/order/")
        assert response.status_code == 200
        policy = directives(response)
        assert policy["script-src"] == ["'self'"]
        assert "'unsafe-inline'" in policy["style-src"]
        assert inline_scripts(response.content.decode()) == []

    def test_the_docs_page_runs_under_the_strict_policy(self, anon):
        page = anon.get("/api/v1/docs/")
        html = page.content.decode()
        assert page.status_code == 200
        policy = directives(page)
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert inline_scripts(html) == [] and "<style" not in html
        init_script = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', html).group(1)
        script = anon.get(init_script.replace("&amp;", "&"))
        assert script.status_code == 200
        assert script["Content-Type"].startswith("application/javascript")
        assert b"SwaggerUIBundle" in script.content


class TestCors:
    def test_an_allowed_origin_may_call_the_api(self, anon, settings, product):
        settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
        response = anon.get("/api/v1/products/", HTTP_ORIGIN="https://shop.example.com")
        assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
        assert "Access-Control-Allow-Credentials" not in response

        preflight = anon.options(
            "/api/v1/orders/",
            HTTP_ORIGIN="https://shop.example.com",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
        )
        assert preflight.status_code == 200
        assert preflight["Access-Control-Allow-Origin"] == "https://shop.example.com"
        allowed = preflight["Access-Control-Allow-Headers"]
        assert "idempotency-key" in allowed and "authorization" in allowed

    def test_any_other_origin_is_refused(self, anon, settings, product):
        settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
        response = anon.get("/api/v1/products/", HTTP_ORIGIN="https://evil.example.net")
        assert "Access-Control-Allow-Origin" not in response
        preflight = anon.options(
            "/api/v1/orders/",
            HTTP_ORIGIN="https://evil.example.net",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert "Access-Control-Allow-Origin" not in preflight

    def test_only_api_paths_answer_cross_origin(self, client, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
        response = client.get("/shop/", HTTP_ORIGIN="https://shop.example.com")
        assert "Access-Control-Allow-Origin" not in response


class TestCsrf:
    def test_a_session_authenticated_write_needs_the_csrf_token(self, product):
        shopper = UserFactory()
        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(shopper)
        body = {"product_id": product.pk, "quantity": 1}

        refused = browser.post("/api/v1/cart/lines/", body, format="json")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        assert browser.get("/api/v1/cart/").json()["lines"] == []

        browser.get("/admin/login/")  # any page with a form sets the csrftoken cookie
        token = browser.cookies["csrftoken"].value
        accepted = browser.post("/api/v1/cart/lines/", body, format="json", HTTP_X_CSRFTOKEN=token)
        assert accepted.status_code == 201
        assert len(browser.get("/api/v1/cart/").json()["lines"]) == 1

    def test_token_authenticated_clients_need_no_csrf_token(self, api, product):
        response = api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 1})
        assert response.status_code == 201


class TestAdminLoginThrottle:
    def login(self, client, username, password, ip="10.0.0.1"):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password, "next": "/admin/"},
            REMOTE_ADDR=ip,
        )

    def test_failed_logins_for_one_username_are_throttled(self, client, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_failures": {"ip": "100/15m", "account": "3/15m"},
        }
        staff = UserFactory(email="boss@example.com", is_staff=True, password="right-pass-123")
        for attempt in range(3):
            wrong = self.login(client, staff.email, "wrong", ip=f"10.0.0.{attempt}")
            assert wrong.status_code == 200
            assert b"Please enter the correct" in wrong.content

        throttled = self.login(client, staff.email, "right-pass-123", ip="10.0.0.99")
        assert throttled.status_code == 429
        assert int(throttled["Retry-After"]) > 0
        assert b"Too many failed login attempts" in throttled.content
        assert "_auth_user_id" not in client.session  # not logged in, even with the password
        assert metrics.read_counter("http_rate_limited") == {("admin-login",): 1.0}

        other = UserFactory(email="other@example.com", is_staff=True, password="pass-456-ok")
        assert self.login(client, other.email, "pass-456-ok").status_code == 302

    def test_failed_logins_from_one_address_are_throttled(self, client, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_failures": {"ip": "4/15m", "account": "100/15m"},
        }
        for n in range(4):
            assert self.login(client, f"guess{n}@example.com", "x").status_code == 200
        throttled = self.login(client, "guess9@example.com", "x")
        assert throttled.status_code == 429
        assert b"Too many failed login attempts" in throttled.content
        assert self.login(client, "guess9@example.com", "x", ip="10.9.9.9").status_code == 200

    def test_successful_logins_do_not_count(self, client, settings):
        settings.RATE_LIMITS = {
            **settings.RATE_LIMITS,
            "login_failures": {"ip": "2/15m", "account": "2/15m"},
        }
        staff = UserFactory(email="boss@example.com", is_staff=True, password="right-pass-123")
        for _ in range(4):
            assert self.login(client, staff.email, "right-pass-123").status_code == 302
            client.logout()
