"""The emulator's tests: one emulator process per test module, delivering to this process's
receiver, reset before each test (tests/conftest.py's `fresh_emulator`), and an SDK client.

Every Stripe API answer a test sees (through the SDK's HTTP clients or `helpers.http`) and
every event the receiver is sent is checked against the SDK's types (conformance.py): a
test whose bodies differ from Stripe's fails at teardown with the list of differences."""

import json

import pytest
import stripe

from devstack import Emulator
from tests.stripe_emulator import conformance, helpers
from tests.stripe_emulator.helpers import WEBHOOK_SECRET

_HTTP_CLIENTS = [
    getattr(stripe, name)
    for name in ("RequestsClient", "UrllibClient", "HTTPXClient", "PycurlClient")
    if hasattr(stripe, name)
]


@pytest.fixture(scope="session", autouse=True)
def record_api_answers():
    """Wrap the SDK's HTTP clients so that each answer from the API lands in `helpers.SEEN`."""
    originals = {cls: cls.__dict__["request"] for cls in _HTTP_CLIENTS if "request" in cls.__dict__}

    def wrap(original):
        def request(self, method, url, headers, post_data=None, **kwargs):
            content, status, response_headers = original(
                self, method, url, headers, post_data, **kwargs
            )
            helpers.record_answer(url, status, content)
            return content, status, response_headers

        return request

    for cls, original in originals.items():
        cls.request = wrap(original)
    yield
    for cls, original in originals.items():
        cls.request = original


@pytest.fixture(autouse=True)
def conforming_bodies(receiver):
    """After each test: every API answer and delivered event has Stripe's shape."""
    helpers.SEEN.clear()
    yield
    bodies = list(helpers.SEEN) + [
        (f"webhook {json.loads(r['body']).get('type')}", r["body"]) for r in receiver.received
    ]
    found = []
    for where, raw in bodies:
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        found += [f"{where}: {d}" for d in conformance.differences(body)]
    helpers.SEEN.clear()
    if found:
        pytest.fail(
            f"{len(found)} differences from Stripe's objects:\n" + "\n".join(sorted(set(found))),
            pytrace=False,
        )


@pytest.fixture(scope="module")
def emulator(receiver):
    server = Emulator(webhook_urls=[receiver.url], webhook_secret=WEBHOOK_SECRET).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(fresh_emulator):
    """Each test starts from an empty emulator (tests/conftest.py)."""


@pytest.fixture
def client(emulator):
    return emulator.client()
