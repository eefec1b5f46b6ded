import json
import logging

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from api.views import handler404, handler500
from orders.models import Order
from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def test_malformed_json_is_400(api):
    response = api.generic(
        "POST", "/api/v1/cart/lines/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


def test_oversized_body_is_413_and_changes_nothing(api, product, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {"lines": [{"product_id": product.pk, "quantity": 1}], "padding": "x" * 4096}
    response = api.post_idem("/api/v1/orders/", body)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not Order.objects.exists()


def test_unsupported_content_type_and_method_use_the_error_body(api):
    form = api.generic(
        "POST",
        "/api/v1/cart/lines/",
        "product_id=1&quantity=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415
    assert error_code(form) == "unsupported_media_type"

    method = api.put("/api/v1/cart/", {})
    assert method.status_code == 405
    assert error_code(method) == "method_not_allowed"


def test_an_unexpected_error_is_a_bare_500_without_details(api, product, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("SELECT * FROM secrets; key sk_test_abcdefghijkl")

    monkeypatch.setattr("orders.api.services.create_order", explode)
    with caplog.at_level(logging.ERROR):
        response = api.post_idem("/api/v1/orders/", {})

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "Internal server error."}
    }
    assert "sk_test" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_django_level_404_and_500_handlers_answer_json_on_the_api(rf):
    not_found = handler404(rf.get("/api/v1/x/"))
    assert not_found.status_code == 404
    assert json.loads(not_found.content)["error"]["code"] == "not_found"
    response = handler500(rf.get("/api/v1/x/"))
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "error": {"code": "server_error", "message": "Internal server error."}
    }
    # Outside the API the admin keeps Django's HTML pages.
    assert handler404(rf.get("/admin/x/")).status_code == 404
    assert b"{" not in handler404(rf.get("/admin/x/")).content[:1]


@pytest.fixture
def database_down(monkeypatch):
    """Every SQL statement fails as it does while PostgreSQL restarts."""

    def refuse(self, sql, params=None):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)


def test_with_the_database_down_the_api_answers_503_with_retry_after(api, database_down):
    response = api.post_idem("/api/v1/orders/", {})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is temporarily unavailable. Try again shortly.",
        }
    }
    assert "127.0.0.1" not in response.content.decode()


def test_with_the_database_down_stripe_gets_a_503_to_retry_later(database_down, settings):
    from tests import stripe_events as se

    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_test_secret"]
    client = Client(raise_request_exception=False)
    response = se.deliver(client, se.event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "service_unavailable"
