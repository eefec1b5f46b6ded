"""Log lines are JSON objects carrying the ids an operator searches by; LOG_LEVEL applies."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stripe_fake import CONNECTION

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def json_lines(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_stripe_outage_line_names_the_request_user_order_and_attempt(
    api,
    user,
    product,
    stripe_fake,
    log_output,
):
    order = api.post_idem("/api/v1/orders/", {"lines": [{"product_id": product.pk, "quantity": 1}]})
    order_id = order.json()["id"]
    stripe_fake.fail_next(CONNECTION)
    response = api.post_idem(
        f"/api/v1/orders/{order_id}/payment-intent/", {}, HTTP_X_REQUEST_ID="trace-me-7"
    )
    assert response.status_code == 503

    [outage] = [
        line
        for line in json_lines(log_output)
        if line["event"] == "stripe payment_intents.create: unreachable (APIConnectionError)"
    ]
    assert outage["level"] == "warning" and outage["logger"] == "payments.gateway.client"
    assert outage["request_id"] == "trace-me-7" and outage["user_id"] == user.pk
    assert outage["order_id"] == order_id and outage["attempt_id"]
    assert outage["timestamp"].endswith("Z")
    [access] = [line for line in json_lines(log_output) if line.get("status") == 503]
    assert access["route"] == "order-payment-intent" and access["request_id"] == "trace-me-7"


def run_logging(level: str) -> list[dict]:
    code = (
        "import django, logging; django.setup(); log = logging.getLogger('payments.test'); "
        "log.info('routine line'); log.warning('ALERT something for %s', 'ops@example.com')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": level}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]


def test_log_level_is_honoured_and_alert_lines_keep_their_prefix():
    warning_only = run_logging("WARNING")
    assert [line["event"] for line in warning_only] == ["ALERT something for o***@example.com"]
    assert [line["event"] for line in run_logging("INFO")] == [
        "routine line",
        "ALERT something for o***@example.com",
    ]


def test_objects_attached_to_a_line_are_redacted_too(anon, log_output):
    # Django attaches the request object to its "Not Found" line; its text has the query.
    assert anon.get("/api/v1/nowhere/?email=jane.doe@example.com").status_code == 404
    logged = log_output.getvalue()
    assert "jane.doe@example.com" not in logged
    [not_found] = [line for line in json_lines(log_output) if line["logger"] == "django.request"]
    assert "j***@example.com" in not_found["request"]
