"""Stripe's retry schedule, the disabling of an endpoint that keeps failing, and the Events
API's 30 days, all in the emulator's time: a test advances its clock and counts what
reached the receiver."""

import itertools
import time

import pytest
import stripe

from devstack import Emulator, wait_until
from stripe_emulator.retry_schedule import RetrySchedule
from tests.stripe_emulator.helpers import deliveries, succeeded_deliveries

MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.fixture(scope="module")
def emulator():
    server = Emulator(retry_schedule="test").start()  # what `make run` uses
    yield server
    server.stop()


@pytest.fixture
def endpoint(client, receiver):
    return client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created"]}
    )


def advance(emulator, seconds: float) -> None:
    assert emulator.control("POST", "/clock/advance", {"seconds": seconds})[0] == 200


def attempts_become(emulator, count: int, event_id: str | None = None) -> None:
    """Wait for `count` attempts, then make sure no other follows straight away."""
    wait_until(lambda: len(deliveries(emulator, event_id)) >= count, what=f"{count} attempts")
    time.sleep(0.2)  # the fast schedule would have retried within this
    assert len(deliveries(emulator, event_id)) == count


def new_event(client) -> str:
    client.v1.customers.create(params={"email": "a@example.com"})
    return client.v1.events.list(params={"limit": 1}).data[0].id


# --- the retry schedule ------------------------------------------------------------------------
def test_test_mode_retries_three_times_over_three_and_a_half_hours(
    emulator, client, receiver, endpoint
):
    receiver.fail_next(1000)
    event_id = new_event(client)
    attempts_become(emulator, 1)
    advance(emulator, 29 * MINUTE)
    attempts_become(emulator, 1)
    advance(emulator, 1 * MINUTE)  # 30 minutes after the first attempt
    attempts_become(emulator, 2)
    advance(emulator, 59 * MINUTE)
    attempts_become(emulator, 2)
    advance(emulator, 1 * MINUTE)  # an hour after the second
    attempts_become(emulator, 3)
    advance(emulator, 2 * HOUR)  # two hours after the third
    attempts_become(emulator, 4)
    advance(emulator, 3 * DAY)  # and no more
    attempts_become(emulator, 4)

    made = deliveries(emulator)
    assert [a["attempt"] for a in made] == [1, 2, 3, 4]
    assert {a["event_id"] for a in made} == {event_id}
    assert len(receiver.received) == 4
    gaps = [round((b["at"] - a["at"]) / MINUTE) for a, b in itertools.pairwise(made)]
    assert gaps == [30, 60, 120]
    event = client.v1.events.retrieve(event_id)
    assert event.pending_webhooks == 1
    assert [e.id for e in client.v1.events.list(params={"delivery_success": False})] == [event_id]


def test_a_retry_that_is_answered_ends_the_retries(emulator, client, receiver, endpoint):
    receiver.fail_next(1)
    event_id = new_event(client)
    attempts_become(emulator, 1)
    advance(emulator, 30 * MINUTE)
    attempts_become(emulator, 2)
    advance(emulator, DAY)
    attempts_become(emulator, 2)
    assert [r["answered"] for r in receiver.received] == [500, 200]
    assert client.v1.events.retrieve(event_id).pending_webhooks == 0
    assert [e.id for e in client.v1.events.list(params={"delivery_success": True})] == [event_id]


def test_stripes_live_mode_schedule_lasts_three_days():
    live = RetrySchedule("live").describe()
    assert live["attempts"] == 13
    assert live["waits_seconds"][:3] == [5 * MINUTE, 10 * MINUTE, 20 * MINUTE]
    assert max(live["waits_seconds"]) == 12 * HOUR
    assert 2.5 * DAY < sum(live["waits_seconds"]) <= 3 * DAY
    assert RetrySchedule("test").describe()["waits_seconds"] == [30 * MINUTE, HOUR, 2 * HOUR]
    fast = RetrySchedule("fast", base_seconds=0.5, max_attempts=4).describe()
    assert fast["waits_seconds"] == [0.5, 1.0, 2.0]


def test_the_schedule_is_shown_by_the_control_api(emulator):
    shown = emulator.control("GET", "/webhooks")[1]["retry_schedule"]
    assert shown == {"name": "test", "attempts": 4, "waits_seconds": [1800, 3600, 7200]}


# --- an endpoint that keeps failing ---------------------------------------------------------------
def endpoint_view(emulator, endpoint_id: str) -> dict:
    [view] = [
        e
        for e in emulator.control("GET", "/webhook_endpoints")[1]["data"]
        if e["id"] == endpoint_id
    ]
    return view


def test_an_endpoint_failing_for_five_days_is_warned_about_then_disabled(
    emulator, client, receiver, endpoint
):
    receiver.fail_next(10_000)
    for day in range(5):
        event_id = new_event(client)
        wait_until(lambda event_id=event_id: deliveries(emulator, event_id), what="an attempt")
        view = endpoint_view(emulator, endpoint.id)
        assert view["status"] == "enabled", day
        assert (view["warned_at"] is not None) == (day >= 3), day
        advance(emulator, DAY)  # the day's event is retried a day later: it fails again

    # The last retry failed five days after the first failure.
    wait_until(
        lambda: client.v1.webhook_endpoints.retrieve(endpoint.id).status == "disabled",
        what="the endpoint disabled",
    )
    sent = len(receiver.received)
    unsent = new_event(client)
    advance(emulator, DAY)  # the fourth day's event would have been retried again by now
    time.sleep(0.3)
    assert len(receiver.received) == sent
    assert deliveries(emulator, unsent) == []
    assert client.v1.events.retrieve(unsent).pending_webhooks == 0

    # Enabled again (the receiver fixed), it is sent new events with a fresh run.
    receiver.fail_next(0)
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    assert endpoint_view(emulator, endpoint.id)["failing_since"] is None
    answered = new_event(client)
    wait_until(lambda: receiver.events(answered=200), what="a delivery once enabled")
    assert receiver.events(answered=200)[0]["id"] == answered


def test_one_success_ends_the_failure_run(emulator, client, receiver, endpoint):
    receiver.fail_next(10_000)
    first = new_event(client)
    wait_until(lambda: deliveries(emulator, first), what="the first attempt")
    advance(emulator, 4 * DAY)
    receiver.fail_next(0)
    answered = new_event(client)
    wait_until(lambda: succeeded_deliveries(emulator, answered), what="a delivery answered")
    assert endpoint_view(emulator, endpoint.id)["failing_since"] is None
    receiver.fail_next(10_000)
    advance(emulator, 2 * DAY)  # six days after the first failure, one after the success
    failing = new_event(client)
    wait_until(lambda: deliveries(emulator, failing), what="the next attempt")
    assert client.v1.webhook_endpoints.retrieve(endpoint.id).status == "enabled"
    assert answered != failing


# --- the Events API keeps 30 days ---------------------------------------------------------------
def test_events_older_than_thirty_days_are_no_longer_served(emulator, client):
    old = client.v1.customers.create(params={"email": "old@example.com"})
    [old_event] = client.v1.events.list().data
    advance(emulator, 29 * DAY)
    client.v1.customers.update(old.id, params={"name": "Old"})
    [recent_event, _] = client.v1.events.list().data
    assert client.v1.events.retrieve(old_event.id).id == old_event.id

    advance(emulator, DAY + 1)  # the first event is now 30 days and a second old
    assert [e.id for e in client.v1.events.list().data] == [recent_event.id]
    assert [e.id for e in client.v1.events.list(params={"type": "customer.created"})] == []
    assert [
        e.id for e in client.v1.events.list(params={"types": ["customer.created", "customer.*"]})
    ] == [recent_event.id]
    since = client.v1.events.list(params={"created": {"gte": old_event.created}})
    assert [e.id for e in since.data] == [recent_event.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.retrieve(old_event.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    # The customer itself stays: only events have a retention period.
    assert client.v1.customers.retrieve(old.id).name == "Old"


# --- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), {"name": "test", "attempts": 4}),  # make run: Stripe's sandbox
        (("--retry-schedule", "live"), {"name": "live", "attempts": 13}),
        # The options fault runs pass keep their fast retries, as before the schedules.
        (("--retry-base-seconds", "0.5", "--max-delivery-attempts", "8"), {"name": "fast"}),
    ],
)
def test_the_command_line_chooses_the_schedule(args, expected):
    server = Emulator(*args, retry_schedule=None, retry_base_seconds=None).start()
    try:
        shown = server.control("GET", "/webhooks")[1]["retry_schedule"]
    finally:
        server.stop()
    assert {key: shown[key] for key in expected} == expected
    if expected["name"] == "fast":
        assert shown["waits_seconds"] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
