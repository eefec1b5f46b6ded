"""SQL statements a worker runs to apply one payment event, counted so they cannot creep up.

A worker's time per event is mostly Django building and running these statements
(docs/benchmarks.md). Each is listed, with where it comes from, in docs/webhooks.md; a
change that adds one fails here and prints them all, so a new statement is a decision.
Counted: every round trip the worker makes for the event, transaction control included
(BEGIN, COMMIT), from taking the inbox row to sending the receipt.
"""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from payments.models import WebhookEvent
from tests import stripe_events as se

# transaction=True: processing runs in real transactions, as in the worker, not in
# savepoints inside the test's transaction (which would add statements of their own).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")

# Applying the event (one transaction), then sending the receipt from the outbox and
# looking for events that waited for this one, after the commit.
PAYMENT_STATEMENTS = 18
PAYMENT_DATA_STATEMENTS = 14  # without transaction control


def _listing(statements) -> str:
    return "\n".join(f"{n:2}. {sql[:240]}" for n, sql in enumerate(statements, start=1))


def test_paying_an_order_runs_a_fixed_number_of_statements(start_payment, send_event, settings):
    settings.MIRROR_STRIPE_OBJECTS = False  # a task of its own, calling Stripe (gateway/mirror)
    attempt = start_payment()
    paid = se.event("payment_intent.succeeded", se.payment_intent(attempt))

    # The webhook's INSERT runs on a plain psycopg cursor (inbox.py), which Django does not
    # capture: what is counted is the worker's part, eager in this test.
    with CaptureQueriesContext(connection) as captured:
        response = send_event(paid)

    assert response.status_code == 200
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    assert WebhookEvent.objects.get(stripe_event_id=paid["id"]).status == "processed"
    assert len(mail.outbox) == 1  # the receipt
    statements = [q["sql"] for q in captured.captured_queries]
    data = [sql for sql in statements if not sql.startswith(CONTROL)]
    assert (len(statements), len(data)) == (PAYMENT_STATEMENTS, PAYMENT_DATA_STATEMENTS), _listing(
        statements
    )
