"""Finance staff in a real browser: sign in to the admin, narrow the order list to a date
range, click "Export CSV" and open the file Chrome downloaded.

Headless Debian chromium against the whole stack (gunicorn, Celery, Redis); the download
goes to a temporary directory set through Chrome's preferences and DevTools; the list as
exported is saved as test-artifacts/browser/admin-csv-export.png.
"""

import csv
import io
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from orders.models import Order
from tests.e2e.chrome import chromium
from tests.e2e.stack import Stack
from tests.e2e.test_browser import (
    _HAS_BROWSER,
    ARTIFACTS,
    WAIT_SECONDS,
)
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.skipif(
    not _HAS_BROWSER, reason="needs Debian's chromium and chromedriver (apt-get install)"
)
PASSWORD = "finance staff password 42"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """Threaded gunicorn workers: a browser's idle preconnects must not hold them all."""
    with django_db_blocker.unblock():
        started = Stack(GUNICORN_CMD_ARGS="--worker-class gthread --threads 4")
    yield started
    started.stop()


@pytest.fixture
def downloads():
    folder = Path(tempfile.mkdtemp(prefix="e2e-downloads-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def chrome(downloads):
    with chromium(
        window="1400,1300", downloads=downloads, page_load_timeout=WAIT_SECONDS
    ) as driver:
        yield driver


def finance_staff() -> str:
    staff = UserFactory(is_staff=True, email=f"finance-{uuid.uuid4().hex[:6]}@example.com")
    staff.set_password(PASSWORD)
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_order", "export_order"])
    )
    return staff.email


def order_on(day: int, total: int, currency: str, **fields) -> Order:
    order = OrderFactory(total=total, subtotal=total, currency=currency, **fields)
    Order.objects.filter(pk=order.pk).update(
        created_at=datetime(2026, 11, day, 10, 0, tzinfo=UTC), status="paid"
    )
    return order


def downloaded_csv(folder: Path) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        done = [p for p in folder.glob("orders-*.csv")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0].read_text()
        time.sleep(0.1)
    raise AssertionError(f"no CSV downloaded into {folder}: {list(folder.iterdir())}")


def test_finance_staff_export_a_date_range_as_csv(stack, chrome, downloads):
    inside_usd = order_on(2, 6100, "usd")
    inside_jpy = order_on(3, 500, "jpy", email="=HYPERLINK(1)@example.com")
    outside = order_on(9, 1230, "kwd")
    email = finance_staff()

    wait = WebDriverWait(chrome, WAIT_SECONDS, poll_frequency=0.1)
    chrome.get(f"{stack.url}/admin/login/?next=/admin/orders/order/")
    chrome.find_element(By.ID, "id_username").send_keys(email)
    chrome.find_element(By.ID, "id_password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, 'input[type="submit"]').click()
    wait.until(ec.visibility_of_element_located((By.ID, "date-range-filter")))

    # The range form is plain HTML (no script under the admin's CSP): fill it, submit.
    for name, value in (("created_from", "2026-11-02"), ("created_to", "2026-11-03")):
        field = chrome.find_element(By.NAME, name)
        chrome.execute_script("arguments[0].value = arguments[1]", field, value)
    chrome.find_element(By.CSS_SELECTOR, '#date-range-filter input[type="submit"]').click()
    wait.until(lambda d: "created_to=2026-11-03" in d.current_url)
    listed = chrome.find_element(By.ID, "result_list").text
    assert inside_usd.number in listed and outside.number not in listed

    chrome.find_element(By.ID, "export-csv").click()
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(downloads))))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(ARTIFACTS / "admin-csv-export.png"))

    by_number = {row["number"]: row for row in rows}
    assert set(by_number) == {inside_usd.number, inside_jpy.number}
    usd, jpy = by_number[inside_usd.number], by_number[inside_jpy.number]
    assert (usd["total"], usd["total_minor"], usd["currency"]) == ("61.00", "6100", "usd")
    assert usd["created_at"] == "2026-11-02T10:00:00Z" and usd["status"] == "paid"
    assert (jpy["total"], jpy["total_minor"]) == ("500", "500")
    assert jpy["email"] == "'=HYPERLINK(1)@example.com"
    violations = [e for e in chrome.get_log("browser") if "Content Security Policy" in e["message"]]
    assert violations == []
