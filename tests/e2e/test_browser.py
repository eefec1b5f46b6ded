"""The demo storefront (`/shop/`) in a real browser, against the whole stack.

Headless Debian chromium driven by Selenium (its own chromedriver: nothing is downloaded)
shops as a person would: registers or signs in, fills the cart, orders, and pays by card in
the page (the page stands in for Stripe.js against the emulator) or on the emulator's hosted
Checkout page; the order page then shows what the webhook did. Screenshots of each step go
to test-artifacts/browser/, and on a failure the page's screenshot and console log too.
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from devstack import ROOT
from tests.e2e.chrome import CHROMEDRIVER, CHROMIUM, chromium
from tests.e2e.stack import Shopper, Stack
from tests.factories import ProductFactory

WAIT_SECONDS = 20
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PASSWORD = "correct horse battery 42"  # Shopper's, so the page can sign its shoppers in

_HAS_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
if not _HAS_BROWSER and os.environ.get("CI"):
    # CI installs them (.ci/run): a missing browser there is a failure, never a skip.
    raise RuntimeError("CI needs Debian's chromium and chromedriver for the browser tests")
pytestmark = pytest.mark.skipif(
    not _HAS_BROWSER, reason="needs Debian's chromium and chromedriver (apt-get install)"
)


class ShopBrowser:
    """The shopper's browser, with the waits and screenshots the tests need."""

    def __init__(self, driver, stack, test_name: str):
        self.driver = driver
        self.stack = stack
        self.test_name = test_name
        self.step = 0

    def open(self, path: str = "/shop/"):
        self.driver.get(f"{self.stack.url}{path}")

    def wait(self, condition, what: str):
        # An element read while the page navigates away goes stale: asked again, on the new
        # page, like one not there yet.
        return WebDriverWait(
            self.driver,
            WAIT_SECONDS,
            poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(condition, message=f"waited {WAIT_SECONDS}s for {what}")

    def visible(self, css: str):
        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), css)

    def click(self, css: str):
        def clicked(driver):
            element = driver.find_element(By.CSS_SELECTOR, css)
            if not (element.is_displayed() and element.is_enabled()):
                return False
            element.click()
            return True

        # Found and clicked in one go, again if the page re-rendered it in between.
        self.wait(clicked, f"a click on {css}")

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def wait_for_text(self, css: str, pattern: str):
        self.wait(
            lambda d: re.search(pattern, d.find_element(By.CSS_SELECTOR, css).text, re.I),
            f"{css} to read /{pattern}/",
        )

    def screenshot(self, label: str) -> Path:
        self.step += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test_name}-{self.step:02d}-{label}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console(self) -> list[dict]:
        return self.driver.get_log("browser")

    # --- What a shopper does ------------------------------------------------------------
    def sign_in(self, email: str, register: bool = False):
        self.visible("#sign-in-form")
        self.driver.find_element(By.ID, "email").send_keys(email)
        self.driver.find_element(By.ID, "password").send_keys(PASSWORD)
        self.click("#register-button" if register else "#sign-in-button")
        self.wait_for_text("#signed-in-as", re.escape(email))
        self.visible("#cart")

    def add_to_cart(self, product):
        self.click(f'li[data-product-id="{product.pk}"] button.add-to-cart')
        self.visible("#cart-lines tr.cart-line td.name")
        self.wait_for_text("#cart-lines", re.escape(product.name))

    def place_order(self) -> str:
        self.click("#place-order")
        self.visible("#payment")
        return self.text("#payment-order-number")

    def pay_by_card(self, payment_method: str):
        self.click("#pay-by-card")
        self.visible("#test-cards")
        self.click(f'#test-cards input[value="{payment_method}"]')
        self.click("#confirm-payment")

    def wait_for_order_status(self, status: str):
        self.wait(
            lambda d: d.find_element(By.ID, "order-status").get_attribute("data-status") == status,
            f"the order page to show {status}",
        )
        # What the shopper reads, not only the attribute.
        assert self.text("#order-status").lower() == status.replace("_", " ")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """conftest's stack, with gunicorn's threaded workers. A browser opens connections ahead
    of need (preconnects) and may leave them idle; each would hold one of the two sync
    workers until its timeout, and the page's next request would hang."""
    with django_db_blocker.unblock():
        started = Stack(GUNICORN_CMD_ARGS="--worker-class gthread --threads 4")
    yield started
    started.stop()


@pytest.fixture
def browser(request, stack):
    with chromium(page_load_timeout=WAIT_SECONDS) as driver:
        shop = ShopBrowser(driver, stack, request.node.name.removeprefix("test_"))
        for stale in ARTIFACTS.glob(f"{shop.test_name}-*.png"):  # from an earlier run
            stale.unlink()
        failures_before = request.session.testsfailed
        yield shop
        if request.session.testsfailed > failures_before:
            _dump_failure(shop)


def _dump_failure(shop: ShopBrowser):
    """The screen, the address and the console as the test left them, for the CI log."""
    try:
        path = shop.screenshot("FAILED")
        log = "\n".join(f"{e['level']} {e['message']}" for e in shop.console())
        print(f"\n--- browser at {shop.driver.current_url}; screenshot {path}\n{log}")
        print(shop.stack.logs())
    except WebDriverException as exc:
        print(f"could not capture the browser: {exc}")


def csp_violations(shop: ShopBrowser) -> list[str]:
    return [e["message"] for e in shop.console() if "Content Security Policy" in e["message"]]


def new_email() -> str:
    return f"browser-{uuid.uuid4().hex[:8]}@example.com"


def test_pay_by_card_in_the_page_until_the_order_is_paid(stack, browser):
    mug = ProductFactory(name="Blue mug", unit_amount=2500, stock=5)
    email = new_email()
    browser.open()
    browser.wait_for_text(f'li[data-product-id="{mug.pk}"]', r"Blue mug\s+\$25\.00")
    browser.screenshot("catalog-signed-out")

    browser.sign_in(email, register=True)
    browser.add_to_cart(mug)
    quantity = browser.visible("#cart-lines input.quantity")
    # Select and overtype (clear() would fire a change with an empty field); the change
    # event fires on leaving the field.
    quantity.send_keys(Keys.CONTROL, "a")
    quantity.send_keys("2", Keys.TAB)
    browser.wait_for_text("#cart-subtotal", r"\$50\.00")
    browser.screenshot("cart-with-two-mugs")

    number = browser.place_order()
    assert browser.text("#payment-total") == "$50.00"
    browser.pay_by_card("pm_card_visa")
    browser.wait(ec.url_matches(r"/shop/orders/\d+$"), "the order page")
    browser.wait_for_order_status("paid")
    assert browser.text("#order-number") == number
    assert "Blue mug" in browser.text("#order-lines")
    assert browser.text("#order-total") == "$50.00"
    browser.screenshot("order-paid")
    assert csp_violations(browser) == []

    # The cart is emptied once the order is paid.
    browser.open()
    browser.visible("#cart-empty")


def test_pay_on_stripe_checkout_and_come_back_to_the_paid_order(stack, browser):
    lamp = ProductFactory(name="Desk lamp", unit_amount=1800, stock=3)
    shopper = Shopper(stack)  # registered through the API; signs in on the page
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(lamp)
    number = browser.place_order()
    browser.click("#pay-with-checkout")

    browser.wait(ec.url_contains(f"{stack.emulator.url}/"), "the hosted Checkout page")
    browser.wait_for_text("body", r"Desk lamp")
    assert "18.00 USD" in browser.text("body")
    browser.screenshot("hosted-checkout")
    browser.click('input[name="choice"][value="4242424242424242"]')
    browser.click('form button[type="submit"]')

    browser.wait(ec.url_matches(r"/shop/orders/\d+\?session_id=cs_"), "the return to the shop")
    assert browser.driver.current_url.startswith(f"{stack.url}/shop/orders/")
    browser.wait_for_order_status("paid")
    assert browser.text("#order-number") == number
    assert browser.text("#order-note") == "Thank you! Your payment is confirmed."
    browser.screenshot("order-paid-after-checkout")
    assert csp_violations(browser) == []


def test_cancelling_on_stripe_checkout_comes_back_to_the_unpaid_order(stack, browser):
    lamp = ProductFactory(name="Desk lamp", unit_amount=1800, stock=3)
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(lamp)
    browser.place_order()
    browser.click("#pay-with-checkout")
    browser.wait(ec.url_contains(f"{stack.emulator.url}/"), "the hosted Checkout page")
    browser.click("a[href*='checkout=cancelled']")

    browser.wait(ec.url_matches(r"/shop/orders/\d+\?checkout=cancelled$"), "the cancel URL")
    browser.wait_for_order_status("pending_payment")
    assert "Checkout was cancelled" in browser.text("#order-note")
    browser.screenshot("order-after-checkout-cancelled")


def test_three_d_secure_in_the_page_returns_to_the_paid_order(stack, browser):
    mug = ProductFactory(name="Blue mug", unit_amount=2500, stock=5)
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(mug)
    browser.place_order()
    browser.pay_by_card("pm_card_threeDSecure2Required")

    browser.wait(ec.url_contains(f"{stack.emulator.url}/3ds/"), "the 3-D Secure page")
    browser.screenshot("three-d-secure-challenge")
    browser.click('button[value="succeeded"]')
    browser.wait(ec.url_contains("redirect_status=succeeded"), "the return to the shop")
    assert browser.driver.current_url.startswith(f"{stack.url}/shop/orders/")
    browser.wait_for_order_status("paid")
    browser.screenshot("order-paid-after-three-d-secure")


def test_a_declined_card_shows_stripes_message_and_keeps_the_cart(stack, browser):
    vase = ProductFactory(name="Glass vase", unit_amount=4200, stock=2)
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(vase)
    browser.place_order()
    browser.pay_by_card("pm_card_visa_chargeDeclined")

    browser.wait_for_text("#error", r"declined")
    assert browser.driver.current_url.removeprefix(stack.url) == "/shop/"
    assert "Glass vase" in browser.text("#cart-lines")
    assert browser.text("#cart-subtotal") == "$42.00"
    assert browser.visible("#card-form")  # another card can be tried, for the same order
    assert not browser.driver.find_element(By.ID, "place-order").is_displayed()
    browser.screenshot("card-declined-cart-kept")

    orders = shopper.get("orders/").json()
    statuses = [order["status"] for order in orders.get("results", orders)]
    assert statuses == ["pending_payment"]


# Wraps the page's fetch to note each (method, URL, Idempotency-Key) it sends.
RECORD_IDEMPOTENCY_KEYS = """
window.sentKeys = [];
const send = window.fetch;
window.fetch = (url, init) => {
  const key = init && init.headers && init.headers["Idempotency-Key"];
  if (key) window.sentKeys.push([init.method, String(url), key]);
  return send(url, init);
};
"""


def test_a_retry_after_an_outage_reuses_the_actions_idempotency_key(stack, browser):
    mug = ProductFactory(name="Blue mug", unit_amount=2500, stock=5)
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(mug)
    browser.driver.execute_script(RECORD_IDEMPOTENCY_KEYS)
    browser.place_order()
    status, _ = stack.emulator.control(
        "POST",
        "/faults",
        {"kind": "500", "count": 1, "when": "before", "path_prefix": "/v1/payment_intents"},
    )
    assert status == 200

    browser.click("#pay-by-card")  # Stripe answers 500: the shop says 503, decides nothing
    browser.wait_for_text("#error", r"\w")
    browser.screenshot("payment-start-failed-stripe-down")
    assert not browser.driver.find_element(By.ID, "card-form").is_displayed()
    browser.click("#pay-by-card")  # the shopper tries again: the same action
    browser.visible("#test-cards")
    assert not browser.driver.find_element(By.ID, "error").is_displayed()

    sent = browser.driver.execute_script("return window.sentKeys;")
    order_keys = [key for method, url, key in sent if url.endswith("/orders/")]
    intent_keys = [key for method, url, key in sent if url.endswith("/payment-intent/")]
    assert len(order_keys) == 1 and len(intent_keys) == 2
    assert intent_keys[0] == intent_keys[1]  # a retry of one action: one key
    assert intent_keys[0] != order_keys[0]  # another action: another key

    browser.click("#confirm-payment")
    browser.wait(ec.url_matches(r"/shop/orders/\d+$"), "the order page")
    browser.wait_for_order_status("paid")


def test_sign_out_forgets_the_token(stack, browser):
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.click("#sign-out")
    browser.visible("#sign-in-form")
    assert not browser.driver.find_element(By.ID, "cart").is_displayed()
    assert browser.driver.execute_script("return sessionStorage.getItem('shop.token')") is None


CHECKOUT_URLS = [
    ("https://checkout.stripe.com/c/pay/cs_test_a1", True),
    ("http://checkout.stripe.com/c/pay/cs_test_a1", False),  # not https
    ("https://checkout.stripe.com:8443/c/pay/cs_test_a1", False),
    ("https://checkout.stripe.com.evil.example/c/pay", False),
    ("https://evil.example/?next=https://checkout.stripe.com/", False),
    ("https://user@checkout.stripe.com/c/pay", False),
    ("javascript:alert(1)", False),
    ("/c/pay/cs_test_a1", False),
    ("", False),
    (None, False),
]


def test_the_page_follows_only_stripe_or_the_configured_emulator(stack, browser):
    browser.open()
    browser.wait_for_text("#status", "No products yet")
    emulator = browser.driver.find_element(By.ID, "shop").get_attribute("data-stripe-api-base")
    assert emulator == stack.emulator.url

    def allowed(url, origin):
        return browser.driver.execute_script(
            "return window.Shop.checkoutUrl.isAllowedCheckoutUrl(arguments[0], arguments[1]);",
            url,
            origin,
        )

    for url, expected in CHECKOUT_URLS:
        assert allowed(url, "") is expected, url
        assert allowed(url, emulator) is expected, url
    assert allowed(f"{emulator}/c/pay/cs_test_a1", emulator) is True
    assert allowed(f"{emulator}/c/pay/cs_test_a1", "") is False  # online: Stripe only
    assert allowed(f"{emulator}5/c/pay/cs_test_a1", emulator) is False  # another port
    assert allowed(f"{emulator}.evil.example/c/pay", emulator) is False


def test_prices_are_formatted_per_currency_zero_decimal_included(stack, browser):
    teapot = ProductFactory(name="Iron teapot", unit_amount=1500, currency="jpy")
    mug = ProductFactory(name="Blue mug", unit_amount=2500, currency="usd")
    browser.open()
    browser.wait_for_text(f'li[data-product-id="{teapot.pk}"]', r"Iron teapot\s+¥1,500\b")
    browser.wait_for_text(f'li[data-product-id="{mug.pk}"]', r"Blue mug\s+\$25\.00")
    browser.screenshot("catalog-yen-and-dollars")

    def formatted(amount, currency):
        return browser.driver.execute_script(
            "return window.Shop.money.formatAmount(arguments[0], arguments[1]);", amount, currency
        )

    assert formatted(2500, "usd") == "$25.00"
    assert formatted(1999, "eur") == "€19.99"
    assert formatted(1500, "jpy") == "¥1,500"
    assert formatted(50000, "krw") == "₩50,000"
