"""The shop page with an order still waiting for payment, in a real browser.

Coming back from Stripe Checkout (or a failed 3-D Secure check) leaves the order
`pending_payment`: the page offers that order (continue paying it, or cancel it) instead of
placing a second one for the same cart, and shows a failed payment at once. The browser,
the stack and the helpers are test_browser.py's; screenshots go to test-artifacts/browser/.
"""

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.e2e import test_browser as shop_browser
from tests.e2e.stack import Shopper
from tests.factories import ProductFactory

# test_browser.py's skip mark (no chromium), stack (threaded gunicorn) and browser fixtures.
pytestmark = shop_browser.pytestmark
stack = shop_browser.stack
browser = shop_browser.browser
csp_violations = shop_browser.csp_violations


def statuses(shopper) -> list[str]:
    return [order["status"] for order in shopper.get("orders/").json()["results"]]


def displayed(browser, element_id: str) -> bool:
    return browser.driver.find_element(By.ID, element_id).is_displayed()


def back_from_checkout(browser, stack, product) -> tuple[Shopper, str]:
    """Order, go to Stripe Checkout, leave it by its cancel link, come back to the shop."""
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(product)
    number = browser.place_order()
    browser.click("#pay-with-checkout")
    browser.wait(ec.url_contains(f"{stack.emulator.url}/"), "the hosted Checkout page")
    browser.click("a[href*='checkout=cancelled']")
    browser.wait_for_order_status("pending_payment")
    browser.open()  # "Back to the shop"
    browser.visible("#pending-order")
    return shopper, number


def test_back_from_checkout_the_page_offers_the_pending_order_not_a_second_one(stack, browser):
    lamp = ProductFactory(name="Desk lamp", unit_amount=1800, stock=3)
    shopper, number = back_from_checkout(browser, stack, lamp)

    assert browser.text("#pending-order-text") == f"Order {number} ($18.00) is waiting for payment."
    assert browser.text("#continue-order") == f"Continue paying order {number}"
    assert not displayed(browser, "place-order")
    browser.screenshot("pending-order-offered")

    browser.click("#continue-order")
    browser.visible("#payment")
    assert browser.text("#payment-order-number") == number
    browser.pay_by_card("pm_card_visa")
    browser.wait(ec.url_matches(r"/shop/orders/\d+$"), "the order page")
    browser.wait_for_order_status("paid")
    assert browser.text("#order-number") == number
    assert statuses(shopper) == ["paid"]  # one order, never a second for the same cart
    assert csp_violations(browser) == []


def test_cancelling_the_pending_order_offers_place_order_again(stack, browser):
    lamp = ProductFactory(name="Desk lamp", unit_amount=1800, stock=3)
    shopper, number = back_from_checkout(browser, stack, lamp)

    browser.click("#cancel-order")
    browser.wait_for_text("#status", rf"Order {number} is cancelled")
    assert not displayed(browser, "pending-order")
    assert "Desk lamp" in browser.text("#cart-lines")  # the cart is kept
    browser.screenshot("pending-order-cancelled")

    second = browser.place_order()
    assert second != number
    assert statuses(shopper) == ["pending_payment", "cancelled"]


def test_a_failed_three_d_secure_check_shows_stripes_message_at_once(stack, browser):
    mug = ProductFactory(name="Blue mug", unit_amount=2500, stock=5)
    shopper = Shopper(stack)
    browser.open()
    browser.sign_in(shopper.email)
    browser.add_to_cart(mug)
    number = browser.place_order()
    browser.pay_by_card("pm_card_threeDSecure2Required")
    browser.wait(ec.url_contains(f"{stack.emulator.url}/3ds/"), "the 3-D Secure page")
    browser.click('button[value="failed"]')

    browser.wait(ec.url_contains("redirect_status=failed"), "the return to the shop")
    # At once (the page's own wait is two minutes): Stripe's message and a way to retry.
    browser.wait_for_text("#error", r"unable to authenticate your payment method")
    assert re.search(r"did not go through", browser.text("#status"))
    assert browser.driver.find_element(By.ID, "order-status").get_attribute("data-status") == (
        "pending_payment"
    )
    browser.screenshot("three-d-secure-failed")

    browser.click("#order-retry-link")  # back to the shop, paying the same order
    browser.visible("#payment")
    assert browser.text("#payment-order-number") == number
    browser.pay_by_card("pm_card_visa")
    browser.wait(ec.url_matches(r"/shop/orders/\d+$"), "the order page")
    browser.wait_for_order_status("paid")
    assert statuses(shopper) == ["paid"]
    browser.screenshot("paid-after-retry")
