"""`GET /metrics`: what an operator's Prometheus sees after known traffic."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability import metrics
from payments.handlers import registry
from payments.models import WebhookEvent
from tests import stripe_events as se
from tests.factories import UserFactory
from tests.staff import confirm_at_stripe, submit_refund
from tests.stripe_fake import CONNECTION

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    # With Redis the suite's cache.clear() empties them; without, they live in the process.
    metrics.reset()


TOKEN = "metrics-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scrape(anon, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[tuple, float]:
        response = anon.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return get


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class TestAccess:
    def test_without_a_configured_token_there_is_no_endpoint(self, anon, settings):
        settings.METRICS_TOKEN = ""
        assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404

    def test_a_wrong_or_missing_token_is_forbidden(self, anon, settings):
        settings.METRICS_TOKEN = TOKEN
        assert anon.get("/metrics").status_code == 403
        assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
        assert anon.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
        assert anon.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_counters_and_gauges_after_known_traffic(
    api,
    client,
    scrape,
    send_event,
    start_payment,
    stripe_fake,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # Given: one paid order, refunded in part and then disputed ...
    paid = start_payment()
    succeeded = se.event("payment_intent.succeeded", se.payment_intent(paid))
    send_event(succeeded)
    send_event(succeeded)  # Stripe delivers it twice
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        submit_refund(client, paid.order, "10.00")
    confirm_at_stripe(send_event, stripe_fake)
    pi = paid.stripe_payment_intent_id
    send_event(se.event("charge.dispute.created", se.dispute(pi, amount=5800)))
    # ... one declined card, one event type we do not handle, one forged delivery ...
    declined = start_payment()
    error = {"type": "card_error", "code": "card_declined", "message": "Declined."}
    send_event(
        se.event(
            "payment_intent.payment_failed",
            se.payment_intent(declined, status="requires_payment_method", error=error),
        )
    )
    send_event(se.event("customer.created", {"id": "cus_1", "object": "customer"}))
    with django_capture_on_commit_callbacks(execute=True):  # as in autocommit
        se.deliver(api, se.event("customer.created", {"id": "cus_2"}), secret="whsec_forged")
    # ... an event whose processing keeps failing ...
    settings.WEBHOOK_MAX_ATTEMPTS = 1

    def broken(event):
        raise RuntimeError("bug")

    monkeypatch.setitem(registry.HANDLERS, "payment_intent.canceled", broken)
    send_event(se.event("payment_intent.canceled", se.payment_intent(declined, status="canceled")))
    # ... Stripe unreachable (the breaker opens at the first failure here) ...
    settings.STRIPE_BREAKER_THRESHOLD = 1
    order = api.post_idem(
        "/api/v1/orders/",
        {"lines": [{"product_id": paid.order.lines.first().product_id, "quantity": 1}]},
    )
    stripe_fake.fail_next(CONNECTION)
    assert (
        api.post_idem(f"/api/v1/orders/{order.json()['id']}/payment-intent/", {}).status_code == 503
    )
    # ... and a shopper over the order rate limit.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order_create": {"user": "1/m"}}
    product_id = paid.order.lines.first().product_id
    body = {"lines": [{"product_id": product_id, "quantity": 1}]}
    assert api.post_idem("/api/v1/orders/", body).status_code == 201
    assert api.post_idem("/api/v1/orders/", body).status_code == 429

    # When Prometheus scrapes
    samples = scrape()

    # Then
    received = "shop_webhook_events_received_total"
    assert value(samples, received, type="payment_intent.succeeded") == 1
    assert value(samples, received, type="customer.created") == 1
    assert value(samples, received, type="refund.updated") == 1
    assert (
        value(samples, "shop_webhook_events_duplicate_total", type="payment_intent.succeeded") == 1
    )
    assert (
        value(samples, "shop_webhook_events_processed_total", type="payment_intent.succeeded") == 1
    )
    assert value(samples, "shop_webhook_events_processed_total", type="charge.dispute.created") == 1
    assert value(samples, "shop_webhook_events_ignored_total", type="customer.created") == 1
    assert value(samples, "shop_webhook_events_failed_total", type="payment_intent.canceled") == 1
    assert value(samples, "shop_webhook_deliveries_rejected_total", code="invalid_signature") == 1
    assert value(samples, "shop_payments_total", outcome="succeeded") == 1
    assert value(samples, "shop_payments_total", outcome="failed") == 1
    assert value(samples, "shop_refunds_total", status="requested") == 1
    assert value(samples, "shop_refunds_total", status="succeeded") == 1
    assert value(samples, "shop_disputes_total", event="opened") == 1
    assert value(samples, "shop_stripe_errors_total", error_class="APIConnectionError") == 1
    assert value(samples, "shop_http_rate_limited_total", route="order-list") == 1
    # processed: succeeded, refund.updated, dispute, payment_failed
    assert value(samples, "shop_webhook_processing_lag_seconds_count") == 4
    assert value(samples, "shop_webhook_processing_lag_seconds_bucket", le="+Inf") == 4
    assert value(samples, "shop_webhook_events", status="failed") == 1
    assert value(samples, "shop_webhook_events", status="processed") == 4
    assert value(samples, "shop_webhook_events", status="received") == 0
    assert value(samples, "shop_stripe_circuit_breaker_open") == 1
    assert value(samples, "shop_disputes_open") == 1
    assert WebhookEvent.objects.filter(status="failed").count() == 1


# Counters are shared through Redis; without it (a laptop with no Redis) there is nothing
# to share. CI always has Redis (scripts/run-tests sets REDIS_URL), so it never skips there.
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not os.environ.get("CI"),
    reason="needs Redis (shared counters); set REDIS_URL to run it",
)
def test_counts_from_another_process_are_in_the_same_scrape(scrape):
    # Given a counter incremented here and one in a separate process (another gunicorn
    # worker or a Celery worker)
    metrics.count("stripe_errors", error_class="RateLimitError")
    code = (
        "import django; django.setup(); from observability import metrics; "
        "metrics.count('stripe_errors', error_class='RateLimitError', amount=2)"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
        timeout=60,
    )
    # Then the scrape, answered by this process, shows both
    samples = scrape()
    assert value(samples, "shop_stripe_errors_total", error_class="RateLimitError") == 3
