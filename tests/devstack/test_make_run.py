"""`make run` as a new user meets it: the embedded defaults (SQLite, no Redis, the offline
Stripe emulator, eager tasks), real processes, the shop's API over HTTP and Stripe.js's
confirmation at the emulator, whose webhooks reach the server while shoppers keep paying."""

import json
import threading
import time
import uuid
from collections import Counter

import pytest
import requests

from tests.devstack.make_run import MakeRun

SHOPPERS = 5
PAYMENTS_PER_SHOPPER = 10


@pytest.fixture(scope="module")
def make_run():
    started = MakeRun().start()
    yield started
    started.stop()


class Shopper:
    def __init__(self, make_run: MakeRun, number: int):
        self.api = make_run.url + "/api/v1/"
        self.emulator = make_run.emulator_url
        self.http = requests.Session()
        answer = self.http.post(
            self.api + "auth/register/",
            json={
                "email": f"load{number}-{uuid.uuid4().hex[:6]}@example.com",
                "password": "x" * 16,
            },
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        self.http.headers["Authorization"] = "Token " + answer.json()["token"]
        self.unpaid: list[int] = []

    def post(self, path: str) -> requests.Response:
        body = {} if path != "orders/" else {"lines": [{"product_id": self.product, "quantity": 1}]}
        return self.http.post(
            self.api + path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=60
        )

    def wait_for_fewer_unpaid(self) -> None:
        """MAX_PENDING_ORDERS (3): wait for the webhooks to mark earlier orders paid."""
        deadline = time.monotonic() + 60
        while len(self.unpaid) >= 3 and time.monotonic() < deadline:
            for order_id in list(self.unpaid):
                answer = self.http.get(self.api + f"orders/{order_id}/", timeout=30)
                if answer.status_code == 200 and answer.json()["status"] == "paid":
                    self.unpaid.remove(order_id)
            time.sleep(0.2)

    def pay(self, statuses: Counter) -> None:
        """Order, start the payment, confirm it as Stripe.js would; the webhooks follow."""
        self.wait_for_fewer_unpaid()
        order = self.post("orders/")
        statuses[f"orders {order.status_code}"] += 1
        if order.status_code != 201:
            return
        self.unpaid.append(order.json()["id"])
        started = self.post(f"orders/{order.json()['id']}/payment-intent/")
        statuses[f"payment-intent {started.status_code}"] += 1
        if started.status_code != 201:
            return
        confirmed = requests.post(
            f"{self.emulator}/v1/payment_intents/{started.json()['payment_intent_id']}/confirm",
            data={
                "client_secret": started.json()["client_secret"],
                "payment_method": "pm_card_visa",
            },
            headers={"Authorization": f"Bearer {started.json()['publishable_key']}"},
            timeout=30,
        )
        statuses[f"confirm {confirmed.status_code}"] += 1


def test_payment_starts_never_answer_5xx_while_webhooks_arrive(make_run):
    """50 payment starts by 5 shoppers at once, each confirmed at once: the emulator's
    webhooks (processed inside the server, eager tasks) overlap the next starts."""
    products = requests.get(make_run.url + "/api/v1/products/", timeout=10).json()
    stickers = next(p for p in products["results"] if p["sku"] == "STICKERS-5")
    shoppers = [Shopper(make_run, number) for number in range(SHOPPERS)]
    statuses: Counter = Counter()

    def run(shopper: Shopper) -> None:
        shopper.product = stickers["id"]
        for _ in range(PAYMENTS_PER_SHOPPER):
            shopper.pay(statuses)

    threads = [threading.Thread(target=run, args=(shopper,)) for shopper in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    server_errors = {key: n for key, n in statuses.items() if " 5" in key}
    assert not server_errors, f"{json.dumps(statuses)}\n{make_run.output()[-4000:]}"
    assert statuses["payment-intent 201"] == SHOPPERS * PAYMENTS_PER_SHOPPER, statuses
    assert statuses["confirm 200"] == SHOPPERS * PAYMENTS_PER_SHOPPER, statuses


def test_one_request_is_one_readable_log_line(make_run):
    """Development logs are text, not JSON, and runserver does not repeat the request."""

    def lines() -> list[str]:
        return [line for line in make_run.output().splitlines() if "/api/v1/products/" in line]

    before = len(lines())
    answer = requests.get(
        make_run.url + "/api/v1/products/", headers={"X-Request-ID": "one-line-probe"}, timeout=10
    )
    assert answer.status_code == 200
    time.sleep(0.5)  # the server writes its line after the answer
    [line] = lines()[before:]
    assert "GET /api/v1/products/ 200" in line and "request_id=one-line-probe" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_second_terminal_reaches_the_emulator_until_make_run_stops(make_run):
    """`manage.py reconcile` with no environment finds make run's emulator through
    VAR_DIR/dev-stripe.env; once make run has stopped it says so (this test stops it)."""
    shopper = Shopper(make_run, 99)
    shopper.product = next(
        p["id"]
        for p in requests.get(make_run.url + "/api/v1/products/", timeout=10).json()["results"]
        if p["sku"] == "STICKERS-5"
    )
    statuses: Counter = Counter()
    shopper.pay(statuses)
    assert statuses["confirm 200"] == 1, statuses
    dev_file = make_run.var_dir / "dev-stripe.env"
    assert dev_file.stat().st_mode & 0o777 == 0o600
    assert f"STRIPE_API_BASE={make_run.emulator_url}\n" in dev_file.read_text()

    reached = make_run.manage("reconcile", "--since", "1")
    assert reached.returncode == 0, reached.stdout + reached.stderr
    assert "Internal server error" not in reached.stdout + reached.stderr
    summary = reached.stdout.strip().splitlines()[-1]
    assert " 0 error(s)" in summary and "0 mismatch(es)" in summary, reached.stdout

    make_run.interrupt()
    assert "STRIPE_EMULATOR_STOPPED=" in dev_file.read_text()
    stopped = make_run.manage("reconcile")
    assert stopped.returncode == 1
    assert "Internal server error" not in stopped.stdout + stopped.stderr
    assert (
        f"The Stripe emulator at {make_run.emulator_url} is not running (make run stopped)"
        in stopped.stderr
    ), stopped.stderr
