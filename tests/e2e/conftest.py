import pytest

from tests.e2e.stack import Stack


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """One set of real processes per test module; each test makes its own shopper."""
    with django_db_blocker.unblock():
        started = Stack()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _settled(request):
    """After each test, let the processes finish before the database is flushed."""
    yield
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").settle()


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Passwords made here must verify in gunicorn, which uses the real hashers."""
