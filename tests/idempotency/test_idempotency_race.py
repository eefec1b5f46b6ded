"""Two identical requests with one Idempotency-Key at the same moment, on PostgreSQL: the
loser of the INSERT race answers 409 idempotency_key_in_use or the stored replay, never a
500 — also when the winner gives the key back (a 5xx it does not store) between the
loser's failed INSERT and its look at the row."""

import threading

import pytest
from django.db import IntegrityError

from idempotency import services
from idempotency.models import IdempotencyKey
from orders.models import Order
from tests.concurrency import run_in_threads
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_many_identical_requests_at_once_make_one_order_and_no_500(client_for):
    shopper = UserFactory()
    product = ProductFactory(stock=50)
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}

    def order():
        response = client_for(shopper).post(
            "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-moment"
        )
        return response.status_code, response.headers.get("Idempotent-Replayed"), response

    results = run_in_threads([order] * 8)

    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    assert Order.objects.filter(user=shopper).count() == 1
    fresh = [r for status, replayed, r in results if status == 201 and replayed is None]
    assert len(fresh) == 1
    for status, _, response in results:
        if status == 409:
            assert response.json()["error"]["code"] == "idempotency_key_in_use"


def test_the_loser_does_not_crash_when_the_winner_gives_the_key_back(monkeypatch):
    user = UserFactory()
    loser_failed = threading.Event()
    winner_released = threading.Event()
    real_create = IdempotencyKey.objects.create
    loser = {}

    def create(**kwargs):
        try:
            return real_create(**kwargs)
        except IntegrityError:
            # The loser's INSERT lost; the winner now finishes with an answer it does not
            # store (a 503) and gives the key back before the loser looks at the row.
            loser_failed.set()
            assert winner_released.wait(10)
            raise

    monkeypatch.setattr(IdempotencyKey.objects, "create", create)

    def winner():
        claim = services.claim(user=user, key="k", fingerprint="f")
        assert loser_failed.wait(10)
        services.release(claim.record)
        winner_released.set()
        return "released"

    def losing():
        try:
            claim = services.claim(user=user, key="k", fingerprint="f")
            loser["outcome"] = "claimed" if not claim.replay else "replay"
        except services.Conflict as exc:
            loser["outcome"] = exc.code
        return loser["outcome"]

    first = threading.Thread(target=lambda: run_in_threads([winner]))
    first.start()
    # The loser starts once the winner holds the key.
    for _ in range(200):
        if IdempotencyKey.objects.filter(user=user, key="k").exists():
            break
        threading.Event().wait(0.01)
    run_in_threads([losing])
    first.join(10)

    assert loser["outcome"] in {"claimed", "idempotency_key_in_use"}
