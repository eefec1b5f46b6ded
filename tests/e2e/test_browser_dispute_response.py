"""Staff answer a dispute in the admin in a real browser, against the whole stack: from the
order page to the response page, evidence filled in, submitted after the confirmation, and
the dispute under review, at Stripe (the emulator) and here once Stripe's event is in.
The screenshot of the result is test-artifacts/browser/admin-dispute-response.png."""

import uuid

from django.contrib.auth.models import Permission
from selenium.webdriver.common.by import By

from payments.models import Dispute
from tests.e2e.stack import eventually
from tests.e2e.test_back_office_and_faults import paid_order
from tests.e2e.test_browser import ARTIFACTS, browser, stack  # noqa: F401 (fixtures)
from tests.factories import UserFactory

PASSWORD = "finance password 42 long enough"
EVIDENCE = {
    "id_product_description": "Blue mug, 350 ml, shipped in a padded box.",
    "id_customer_name": "Ada Lovelace",
    "id_shipping_carrier": "DHL",
    "id_shipping_tracking_number": "JD014600003828",
    "id_uncategorized_text": "Delivered on 20 November and signed for by the customer.",
}


def finance_staff() -> str:
    email = f"finance-{uuid.uuid4().hex[:6]}@example.com"
    staff = UserFactory(is_staff=True, email=email)
    staff.set_password(PASSWORD)
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["respond_dispute", "view_order"])
    )
    return email


def test_staff_submit_evidence_and_see_the_dispute_under_review(stack, browser):  # noqa: F811
    shopper, order, started = paid_order(stack)
    status, opened = stack.emulator.control(
        "POST",
        "/disputes",
        {"payment": started["payment_intent_id"], "reason": "product_not_received"},
    )
    assert status == 200, opened
    shopper.wait_for_status(order["id"], "disputed")

    browser.open("/admin/login/")
    browser.visible("#id_username").send_keys(finance_staff())
    browser.driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.click('input[type="submit"]')
    browser.wait_for_text("body", "Log out")

    browser.open(f"/admin/orders/order/{order['id']}/change/")
    browser.click("a.respond-to-dispute")
    browser.visible("#evidence-form")
    assert browser.text("#dispute-status") == "Needs response"
    for field_id, text in EVIDENCE.items():
        browser.driver.find_element(By.ID, field_id).send_keys(text)
    browser.screenshot("evidence-filled")
    browser.click("#submit-evidence")

    browser.visible("#confirm-text")
    assert "cannot be undone" in browser.text("#confirm-text")
    assert "JD014600003828" in browser.text("#evidence-summary")
    browser.screenshot("confirmation")
    browser.click("#confirm-submit-button")

    browser.wait_for_text("#dispute-status", "Under review")
    assert "submitted to the bank" in browser.text(".messagelist")
    assert browser.text("#submission-count").startswith("1 time")
    assert "JD014600003828" in browser.text("#evidence-at-stripe")  # read back from Stripe
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.driver.save_screenshot(str(ARTIFACTS / "admin-dispute-response.png"))

    at_stripe = stack.emulator.client().v1.disputes.retrieve(opened["id"])
    assert (at_stripe.status, at_stripe.evidence_details.submission_count) == ("under_review", 1)
    assert at_stripe.evidence.customer_name == "Ada Lovelace"
    assert at_stripe.evidence.uncategorized_text == EVIDENCE["id_uncategorized_text"]

    stack.settle()  # Stripe's charge.dispute.updated is processed: nothing moves back
    dispute = Dispute.objects.get(stripe_dispute_id=opened["id"])
    assert (dispute.status, dispute.submission_count) == ("under_review", 1)

    # The bank decides for the shop: the order is paid again.
    stack.emulator.control("POST", f"/disputes/{opened['id']}/resolve", {"outcome": "won"})
    shopper.wait_for_status(order["id"], "paid")
    eventually(lambda: _reloaded_status(browser, "Won"))


def _reloaded_status(shop, expected: str):
    shop.driver.refresh()
    assert shop.text("#dispute-status") == expected
