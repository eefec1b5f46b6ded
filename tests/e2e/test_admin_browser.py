"""The back office in a real browser: a Finance staff member signs in, reads the dashboard
(inline SVG charts under the admin's Content-Security-Policy) and opens an order's refund
page, where money reads in major units. Screenshots: test-artifacts/browser/admin-*.png."""

import re
import uuid
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone
from selenium.webdriver.common.by import By

from accounts.staff_groups import FINANCE
from payments.models import Dispute, PaymentAttempt, ReconciliationMismatch, WebhookEvent
from tests.e2e import test_browser as shop_browser
from tests.e2e.stack import Shopper, confirm_as_stripe_js
from tests.factories import ProductFactory, UserFactory

# The storefront's browser tests' fixtures: the stack with threaded workers, and chromium.
stack = shop_browser.stack
browser = shop_browser.browser
ARTIFACTS = shop_browser.ARTIFACTS
csp_violations = shop_browser.csp_violations

PASSWORD = "finance password 42 long enough"


def paid_order(stack, amount=4000):
    product = ProductFactory(name="Poster A2", unit_amount=amount, stock=5)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    assert confirm_as_stripe_js(stack, started, "pm_card_visa").status_code == 200
    shopper.wait_for_status(order["id"], "paid")
    return order


def finance_member():
    user = UserFactory(is_staff=True, email=f"finance-{uuid.uuid4().hex[:6]}@example.com")
    user.set_password(PASSWORD)
    user.save()
    user.groups.set(Group.objects.filter(name=FINANCE))
    return user


def sign_in(browser, user):
    browser.open("/admin/login/?next=/admin/")
    browser.visible("#id_username").send_keys(user.email)
    browser.driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.click('input[type="submit"]')
    browser.visible("#dashboard")


def shot(browser, name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_the_dashboard_and_a_refund_page_in_major_units(stack, browser):
    order = paid_order(stack)
    WebhookEvent.objects.create(
        stripe_event_id=f"evt_e2e_{uuid.uuid4().hex[:8]}",
        type="charge.refunded",
        payload={},
        status="failed",
        last_error="KeyError: 'charge'",
    )
    attempt = PaymentAttempt.objects.get(order_id=order["id"])
    Dispute.objects.create(
        attempt=attempt,
        order_id=order["id"],
        stripe_dispute_id=f"dp_e2e_{uuid.uuid4().hex[:8]}",
        amount=4000,
        currency="usd",
        status="needs_response",
        reason="fraudulent",
        evidence_due_by=timezone.now() + timedelta(days=2),
    )
    ReconciliationMismatch.objects.create(
        kind="amount",
        subject=f"pi_e2e_{uuid.uuid4().hex[:8]}",
        order_id=order["id"],
        local_state="succeeded, 40.00 USD",
        stripe_state="succeeded, 39.00 USD",
        last_seen_at=timezone.now(),
    )
    sign_in(browser, finance_member())

    volume = browser.text("#widget-volume")
    assert re.search(r"USD: today \d[\d,]*\.\d\d USD", volume), volume
    charts = browser.driver.find_elements(By.CSS_SELECTOR, "#dashboard svg.chart")
    assert len(charts) >= 5
    assert re.search(r"[1-9]\d* open", browser.text("#widget-mismatches"))
    assert re.search(r"[1-9]\d* failed events", browser.text("#widget-webhooks"))
    assert re.search(r"[1-9]\d* open, 0 overdue", browser.text("#widget-disputes"))
    assert csp_violations(browser) == []  # the charts need no script and break no rule
    browser.driver.set_window_size(1280, 1100)  # every widget in the picture
    shot(browser, "admin-dashboard")
    browser.driver.set_window_size(1280, 900)

    # A bar is a link to the list it counts.
    browser.click("#widget-volume svg a:last-of-type")
    browser.wait_for_text("#result_list", order["number"])

    browser.open(f"/admin/orders/order/{order['id']}/refund/")
    browser.wait_for_text("#paid", r"^40\.00 USD$")
    amount = browser.driver.find_element(By.NAME, "amount")
    assert amount.get_attribute("value") == "40.00"
    assert "minor units" not in browser.text("#content")
    shot(browser, "admin-order-refund")

    amount.clear()
    amount.send_keys("15.00")
    browser.driver.find_element(By.NAME, "reason").send_keys("Arrived scratched")
    browser.click('input[type="submit"]')
    browser.wait_for_text("#confirm-text", r"Refund 15\.00 USD of order")
    shot(browser, "admin-order-refund-confirm")
    assert csp_violations(browser) == []
