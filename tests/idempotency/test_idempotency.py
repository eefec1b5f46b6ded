import json
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import services as catalog_services
from idempotency.models import IdempotencyKey
from idempotency.services import request_fingerprint
from orders.models import Order
from tests.concurrency import run_in_threads
from tests.conftest import ShopClient, error_code
from tests.factories import ProductFactory, UserFactory, token_for


def _order_body(product, quantity=1):
    return {"lines": [{"product_id": product.pk, "quantity": quantity}]}


@pytest.mark.django_db
class TestIdempotencyKey:
    def test_missing_or_too_long_key_is_400_and_runs_nothing(self, api, product):
        missing = api.post("/api/v1/orders/", _order_body(product))
        assert missing.status_code == 400
        assert error_code(missing) == "idempotency_key_required"

        too_long = api.post("/api/v1/orders/", _order_body(product), idempotency_key="k" * 256)
        assert too_long.status_code == 400
        assert error_code(too_long) == "idempotency_key_invalid"
        assert not Order.objects.exists()

        longest = api.post("/api/v1/orders/", _order_body(product), idempotency_key="k" * 255)
        assert longest.status_code == 201

    def test_same_key_and_request_replays_the_stored_answer_and_runs_once(self, api, product):
        first = api.post("/api/v1/orders/", _order_body(product, 2), idempotency_key="abc")
        replay = api.post("/api/v1/orders/", _order_body(product, 2), idempotency_key="abc")

        assert first.status_code == replay.status_code == 201
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Order.objects.count() == 1
        product.refresh_from_db()
        assert product.reserved == 2

    def test_key_order_in_json_does_not_make_a_different_request(self, api, product):
        api.post(
            "/api/v1/orders/",
            {"lines": [{"product_id": product.pk, "quantity": 1}]},
            idempotency_key="k1",
        )
        again = api.post(
            "/api/v1/orders/",
            {"lines": [{"quantity": 1, "product_id": product.pk}]},
            idempotency_key="k1",
        )
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"

    def test_same_key_with_a_different_request_is_422(self, api, product):
        api.post("/api/v1/orders/", _order_body(product, 1), idempotency_key="abc")
        other_body = api.post("/api/v1/orders/", _order_body(product, 3), idempotency_key="abc")
        assert other_body.status_code == 422
        assert error_code(other_body) == "idempotency_key_reused"

        order_id = Order.objects.get().pk
        other_path = api.post(f"/api/v1/orders/{order_id}/cancel/", {}, idempotency_key="abc")
        assert other_path.status_code == 422
        assert Order.objects.get().status == "pending_payment"
        assert Order.objects.count() == 1

    def test_keys_are_scoped_to_the_user(self, api, client_for, product):
        other = client_for(UserFactory())
        mine = api.post("/api/v1/orders/", _order_body(product), idempotency_key="shared")
        theirs = other.post("/api/v1/orders/", _order_body(product), idempotency_key="shared")
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]
        assert "Idempotent-Replayed" not in theirs

    def test_a_refused_request_stores_nothing_so_the_key_can_be_retried(self, api):
        product = ProductFactory(stock=0)
        refused = api.post("/api/v1/orders/", _order_body(product), idempotency_key="retry-me")
        assert refused.status_code == 409
        assert not IdempotencyKey.objects.exists()

        product.stock = 1
        product.save()
        retried = api.post("/api/v1/orders/", _order_body(product), idempotency_key="retry-me")
        assert retried.status_code == 201

    def test_a_key_left_by_a_dead_request_is_taken_over_after_the_lock_timeout(
        self, api, user, product, settings
    ):
        IdempotencyKey.objects.create(
            user=user,
            key="orphan",
            locked_at=timezone.now() - timedelta(minutes=10),
            fingerprint=_fingerprint("/api/v1/orders/", _order_body(product)),
        )
        response = api.post("/api/v1/orders/", _order_body(product), idempotency_key="orphan")
        assert response.status_code == 201
        assert IdempotencyKey.objects.get(key="orphan").state == "completed"


def _fingerprint(path, body):
    return request_fingerprint("POST", path, json.dumps(body).encode())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_key_while_the_first_request_still_runs_is_409(monkeypatch):
    """The second request arrives while the first is inside the order service."""
    user = UserFactory()
    product = ProductFactory(stock=5)
    inside, release = threading.Event(), threading.Event()
    real_reserve = catalog_services.reserve_stock

    def slow_reserve(quantities):
        inside.set()
        assert release.wait(10)
        return real_reserve(quantities)

    monkeypatch.setattr("orders.services.reserve_stock", slow_reserve)

    def client():
        c = ShopClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return c

    def first():
        return client().post("/api/v1/orders/", _order_body(product), idempotency_key="dup")

    def second():
        assert inside.wait(10)
        try:
            return client().post("/api/v1/orders/", _order_body(product), idempotency_key="dup")
        finally:
            release.set()

    first_response, second_response = run_in_threads([first, second])

    assert first_response.status_code == 201
    assert second_response.status_code == 409
    assert second_response.json()["error"]["code"] == "idempotency_key_in_use"
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.reserved == 1

    replay = client().post("/api/v1/orders/", _order_body(product), idempotency_key="dup")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
