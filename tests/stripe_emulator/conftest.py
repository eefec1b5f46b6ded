"""The emulator's tests: one emulator process per test module, delivering to this process's
receiver, reset before each test (tests/conftest.py's `fresh_emulator`), and an SDK client."""

import pytest

from devstack import Emulator
from tests.stripe_emulator.helpers import WEBHOOK_SECRET


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
