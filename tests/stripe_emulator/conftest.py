"""The emulator's API tests: one emulator process per test module, reset before each test
(tests/conftest.py's `fresh_emulator`), and an SDK client for it."""

import pytest

from devstack import Emulator


@pytest.fixture(scope="module")
def emulator(receiver):
    server = Emulator(webhook_urls=[receiver.url], webhook_secret="whsec_api_tests").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(fresh_emulator):
    """Each test starts from an empty emulator (tests/conftest.py)."""


@pytest.fixture
def client(emulator):
    return emulator.client()
