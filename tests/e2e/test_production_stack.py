"""The shop deployed as docs/deploy.md says (devstack.production: the guide's steps, then
gunicorn, a Celery worker and beat from its commands, DEBUG off), seen in a real browser:
the admin is styled by the collected, hashed static files whitenoise serves, and the demo
storefront renders its catalog. Screenshots: test-artifacts/browser/production-*.png.

No TLS proxy stands in front here, so after the guide's steps (and its `check --deploy`)
ran on the production environment, the three processes start with SECURE_SSL_REDIRECT
off and the browser talks plain HTTP to gunicorn; Chromium keeps the Secure session and
CSRF cookies on localhost.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from devstack import ROOT
from devstack.production import ProductionStack
from tests.e2e.chrome import CHROMEDRIVER, CHROMIUM, chromium

ARTIFACTS = ROOT / "test-artifacts" / "browser"
WAIT_SECONDS = 20
STAFF_EMAIL = "operator@example.com"
STAFF_PASSWORD = "a long production staff password 42"
UNSTYLED = {"rgba(0, 0, 0, 0)", "transparent"}

_HAS_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
if not _HAS_BROWSER and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium and chromedriver for the browser tests")
pytestmark = pytest.mark.skipif(
    not _HAS_BROWSER, reason="needs Debian's chromium and chromedriver (apt-get install)"
)


@pytest.fixture(scope="module")
def production():
    redis_url = os.environ.get("REDIS_URL") or settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    stack = ProductionStack(
        redis_url,
        install=False,  # scripts/deploy-smoke runs the install step; the same lock is here
        extra_env={"ALLOWED_HOSTS": "shop.example.com,localhost"},
        # No nginx in front (see above): plain HTTP, and threaded workers, since the
        # browser's idle preconnections would each hold a sync worker.
        process_env={"SECURE_SSL_REDIRECT": "false", "GUNICORN_THREADS": "4"},
    )
    try:
        stack.manage(
            "createsuperuser",
            "--noinput",
            "--email",
            STAFF_EMAIL,
            DJANGO_SUPERUSER_PASSWORD=STAFF_PASSWORD,
        )
        stack.manage("seed_demo")
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def browser(request, production):
    with chromium(page_load_timeout=WAIT_SECONDS) as driver:
        failures_before = request.session.testsfailed
        yield driver
        if request.session.testsfailed > failures_before:
            _screenshot(driver, "FAILED")
            print(f"browser at {driver.current_url}\n{production.logs()}")


def _screenshot(driver, label: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"production-{label}.png"
    driver.save_screenshot(str(path))
    return path


def _url(production: ProductionStack, path: str) -> str:
    return f"http://localhost:{production.port}{path}"


def _wait(driver, condition, what: str):
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(
        condition, message=f"waited {WAIT_SECONDS}s for {what}"
    )


def _style(driver, css: str, prop: str) -> str:
    return driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]];", css, prop
    )


def test_staff_sign_in_to_a_styled_admin(production, browser):
    browser.get(_url(production, "/admin/"))
    _wait(browser, lambda d: d.find_elements(By.ID, "login-form"), "the admin login form")
    # base.css is linked by its hashed name from collectstatic's manifest.
    sheets = browser.execute_script(
        "return [...document.styleSheets].map(s => s.href || '')"
        ".filter(h => h.includes('/static/admin/css/'));"
    )
    assert any("/static/admin/css/base." in href and href.endswith(".css") for href in sheets)
    assert not any(href.endswith("/static/admin/css/base.css") for href in sheets)
    assert _style(browser, "#header", "backgroundColor") not in UNSTYLED
    _screenshot(browser, "admin-login")

    browser.find_element(By.NAME, "username").send_keys(STAFF_EMAIL)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "site-name"), "the admin index")
    tools = "user-tools"
    _wait(browser, lambda d: "log out" in d.find_element(By.ID, tools).text.lower(), "Log out")

    header = _style(browser, "#header", "backgroundColor")
    assert header not in UNSTYLED, header
    # The admin's own font stack and the module captions' colour, from base.css.
    assert _style(browser, "body", "fontFamily") != _default_font(browser)
    assert _style(browser, ".module caption", "backgroundColor") not in UNSTYLED
    assert STAFF_EMAIL.split("@")[0] in browser.find_element(By.ID, "user-tools").text.lower()
    _screenshot(browser, "admin-index")


def _default_font(driver) -> str:
    """The font an unstyled page gets in this browser."""
    return driver.execute_script(
        "const f = document.createElement('iframe'); document.body.appendChild(f);"
        "const font = getComputedStyle(f.contentDocument.body).fontFamily; f.remove();"
        "return font;"
    )


def test_the_shop_renders_its_catalog(production, browser):
    browser.get(_url(production, "/shop/"))
    _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#products li[data-product-id]"),
        "the catalog's products",
    )
    assert browser.find_element(By.ID, "status").text != "Loading…"
    names = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#products li")]
    assert names and all(name.strip() for name in names)
    assert browser.find_element(By.ID, "store").is_displayed()
    scripts = browser.execute_script(
        "return [...document.scripts].map(s => s.src).filter(s => s.includes('/static/'));"
    )
    # Each by its hashed name (collectstatic's manifest), so browsers may cache it for good.
    assert scripts and all(re.search(r"\.[0-9a-f]{12}\.js$", src) for src in scripts), scripts
    _screenshot(browser, "shop-catalog")
