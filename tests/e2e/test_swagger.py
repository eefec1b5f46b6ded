"""The API's docs page (Swagger UI at /api/v1/docs/) used as a developer would, in a browser.

Against the whole stack (gunicorn, the worker, the Stripe emulator): open the page, paste a
shopper's token into *Authorize*, then "Try it out" on placing an order (with an
Idempotency-Key typed into its header field) and on starting a card payment for it; Swagger
UI shows 201 for both, and the shop really has the order and its payment. Screenshots go to
test-artifacts/browser/swagger-*.png.
"""

import json
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.stack import Shopper
from tests.e2e.test_browser import (  # noqa: F401 (fixtures)
    _HAS_BROWSER,
    ARTIFACTS,
    browser,
    csp_violations,
    stack,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.skipif(
    not _HAS_BROWSER, reason="needs Debian's chromium and chromedriver (apt-get install)"
)


class SwaggerPage:
    """Swagger UI's controls, found the way its markup names them."""

    def __init__(self, shop):
        self.shop = shop
        self.driver = shop.driver

    def open(self):
        self.shop.open("/api/v1/docs/")
        self.shop.visible(".swagger-ui .info .title")
        self.shop.visible("button.authorize")

    def authorize(self, value: str):
        self.shop.click("button.btn.authorize")
        self.shop.visible(".modal-ux .auth-container")
        containers = self.driver.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container")
        token = next(
            c
            for c in containers
            if c.find_element(By.CSS_SELECTOR, "h4").text.startswith("tokenAuth")
        )
        token.find_element(By.CSS_SELECTOR, "input").send_keys(value)
        token.find_element(By.CSS_SELECTOR, "button.authorize").click()
        self.shop.wait(lambda d: "Authorized" in token.text, "tokenAuth to read Authorized")
        self.shop.screenshot("authorized")
        self.shop.click(".modal-ux button.btn-done")

    def operation(self, tag: str, operation_id: str) -> str:
        css = f"#operations-{tag}-{operation_id}"
        self.shop.click(f"{css} .opblock-summary-control")
        self.shop.click(f"{css} button.try-out__btn")
        return css

    def fill(self, css: str, name: str, value: str, location: str):
        field = self.shop.visible(
            f'{css} tr[data-param-name="{name}"][data-param-in="{location}"] input'
        )
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value)

    def body(self, css: str, text: str):
        area = self.shop.visible(f"{css} textarea.body-param__text")
        area.send_keys(Keys.CONTROL, "a", Keys.DELETE)
        area.send_keys(text)

    def execute(self, css: str) -> tuple[str, str, str]:
        """Click Execute; (status, body, response headers) as Swagger UI shows them."""
        responses = f"{css} .live-responses-table"
        if self.driver.find_elements(By.CSS_SELECTOR, responses):  # an earlier answer
            self.shop.click(f"{css} button.btn-clear")
            self.shop.wait(
                lambda d: not d.find_elements(By.CSS_SELECTOR, responses), "the answer cleared"
            )
        self.shop.click(f"{css} button.execute")
        shown = self.shop.visible(f"{responses} .response-col_status")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", shown)
        status = self.shop.text(f"{responses} tbody .response-col_status")
        blocks = self.driver.find_elements(
            By.CSS_SELECTOR, f"{responses} tbody .response-col_description pre"
        )
        body, headers = blocks[0].text, blocks[-1].text
        return status.strip(), body, headers


def test_swagger_try_it_out_places_an_order_and_starts_a_payment(stack, browser):  # noqa: F811
    for stale in ARTIFACTS.glob("swagger-*.png"):
        stale.unlink()
    browser.test_name = "swagger"
    mug = ProductFactory(name="Blue mug", unit_amount=2500, stock=5)
    shopper = Shopper(stack)
    page = SwaggerPage(browser)

    page.open()
    browser.screenshot("docs-page")
    page.authorize(shopper.http.headers["Authorization"])  # "Token <key>"

    order_op = page.operation("Orders", "orders_create")
    order_key = f"swagger-order-{uuid.uuid4().hex}"
    page.fill(order_op, "Idempotency-Key", order_key, "header")
    page.body(order_op, json.dumps({"lines": [{"product_id": mug.pk, "quantity": 2}]}))
    status, body, _ = page.execute(order_op)
    browser.screenshot("order-created")
    assert status == "201", body
    order = json.loads(body)
    assert order["status"] == "pending_payment" and order["total"] == 5000
    assert isinstance(order["id"], int)

    # The same key and request again: the stored answer, marked as a replay; one order.
    status, body, headers = page.execute(order_op)
    assert status == "201" and json.loads(body)["id"] == order["id"]
    assert "idempotent-replayed: true" in headers.lower()
    listed = shopper.get("orders/").json()
    assert [o["id"] for o in listed.get("results", listed)] == [order["id"]]

    intent_op = page.operation("Payments", "orders_payment_intent_create")
    page.fill(intent_op, "id", str(order["id"]), "path")
    page.fill(intent_op, "Idempotency-Key", f"swagger-pay-{uuid.uuid4().hex}", "header")
    status, body, _ = page.execute(intent_op)
    browser.screenshot("payment-intent-created")
    assert status == "201", body
    started = json.loads(body)
    assert started["payment_intent_id"].startswith("pi_")
    assert (started["amount"], started["currency"]) == (5000, "usd")
    payment = shopper.get(f"orders/{order['id']}/payment/")
    assert payment.status_code == 200 and payment.json()["amount"] == 5000

    assert csp_violations(browser) == []
    assert sorted(p.name for p in ARTIFACTS.glob("swagger-*.png")) == [
        "swagger-01-docs-page.png",
        "swagger-02-authorized.png",
        "swagger-03-order-created.png",
        "swagger-04-payment-intent-created.png",
    ]
