"""The demo storefront page's HTML and policy: /shop/ and the order page /shop/orders/<id>.

tests/config/test_security_headers.py holds the policy with the real Stripe; here is what changes
offline (STRIPE_API_BASE set: the emulator stands in for Stripe.js) and what the page is
made of. tests/e2e/test_browser.py drives it in a browser.
"""

import re

import pytest
from django.contrib.staticfiles import finders

from tests.csp import directives, inline_scripts

pytestmark = pytest.mark.django_db

EMULATOR = "http://127.0.0.1:12111"


def test_with_the_emulator_the_page_may_call_its_origin_and_loads_no_stripe_js(client, settings):
    settings.STRIPE_API_BASE = f"{EMULATOR}/"  # a path or slash never widens the policy
    response = client.get("/shop/")
    html = response.content.decode()
    policy = directives(response)
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com", EMULATOR]
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert policy["default-src"] == ["'self'"]
    assert "js.stripe.com/v3" not in html  # offline it could not load, and is not needed
    assert f'data-stripe-api-base="{EMULATOR}"' in html


def test_with_the_real_stripe_the_page_is_not_told_of_any_emulator(client, settings):
    settings.STRIPE_API_BASE = ""
    response = client.get("/shop/")
    assert EMULATOR not in response["Content-Security-Policy"]
    assert 'data-stripe-api-base=""' in response.content.decode()


def test_the_order_page_is_the_same_page_under_the_same_policy(client, settings):
    settings.STRIPE_API_BASE = EMULATOR
    shop, order = client.get("/shop/"), client.get("/shop/orders/42")
    assert order.status_code == 200
    assert order["Content-Security-Policy"] == shop["Content-Security-Policy"]
    assert 'data-order-id="42"' in order.content.decode()
    assert 'data-order-id=""' in shop.content.decode()
    assert client.get("/shop/orders/abc").status_code == 404
    assert client.post("/shop/orders/42").status_code == 405


def test_the_page_has_only_static_scripts_and_no_inline_handlers(client):
    html = client.get("/shop/").content.decode()
    assert inline_scripts(html) == []
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "style=" not in html
    scripts = re.findall(r'<script src="/static/([^"]+)"', html)
    assert scripts[-1] == "shop/shop.js"  # the entry point runs last
    for script in scripts:
        assert finders.find(script), script


def test_the_site_root_leads_to_the_shop(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/shop/"
    assert client.get(response["Location"]).status_code == 200
