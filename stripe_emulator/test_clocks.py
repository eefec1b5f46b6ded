"""Stripe's test clocks (`/v1/test_helpers/test_clocks`): customers that live in a time of
their own, which only moves when the clock is advanced.

A customer created with `test_clock` lives in that clock's `frozen_time`: what is made for
it (PaymentIntents, charges, Checkout Sessions, refunds) takes the clock's time as `created`,
and its timers (session expiry, authorization expiry, bank settlement) are set on that
clock. Advancing answers at once with `status=advancing`; then, as at Stripe, the clock
moves through every timer that falls due on the way, in order, and becomes `ready`
(`test_helpers.test_clock.advancing`, then `.ready`). Events carry the emulator's own time:
they are sent when the advance happens.

Rules kept from Stripe: a new `frozen_time` must be later than the current one and at most
two years ahead (there are no subscriptions here to shorten that); a clock that is advancing
cannot be advanced again until it is ready; a clock holds at most three customers; it
deletes itself, with its customers, at `deletes_after` (a week after it was made).
"""

import contextlib
import threading
from collections.abc import Iterator

from stripe_emulator.clock import CLOCK
from stripe_emulator.errors import invalid, missing_resource
from stripe_emulator.state import RequestContext, Store, new_id, now
from stripe_emulator.timers import Timers

OBJECT = "test_helpers.test_clock"
LIFETIME = 7 * 24 * 60 * 60  # deletes_after - created
MAX_AHEAD = 2 * 365 * 24 * 60 * 60
MAX_CUSTOMERS = 3
MAX_NAME = 300


# --- whose time: helpers for the rest of the emulator ----------------------------------
def clock_of(store: Store, customer_id: str | None) -> dict | None:
    """The test clock a customer lives in, or None."""
    customer = store.find("customer", customer_id)
    return store.find(OBJECT, customer.get("test_clock")) if customer else None


def living_in(store: Store, customer_id: str | None):
    """A context in which `now()` and new timers follow the customer's test clock, if any."""
    clock = clock_of(store, customer_id)
    if clock is None:
        return contextlib.nullcontext()
    return CLOCK.pinned(clock["frozen_time"], clock["id"])


def _customer_behind(store: Store, object_id) -> str | None:
    obj = store.objects.get(object_id) if isinstance(object_id, str) else None
    for _ in range(3):  # refund → payment_intent → customer
        if obj is None:
            return None
        if obj.get("object") == "customer":
            return obj["id"]
        if isinstance(obj.get("customer"), str):
            return obj["customer"]
        link = obj.get("payment_intent") or obj.get("charge")
        obj = store.objects.get(link) if isinstance(link, str) else None
    return None


@contextlib.contextmanager
def request_time(store: Store, ids: tuple, params: dict) -> Iterator[None]:
    """An API request about a test clock's customer runs in that clock's time."""
    named = params.get("test_clock")  # a customer created on a clock
    clock = store.find(OBJECT, named) if isinstance(named, str) else None
    if clock is None:
        for candidate in (
            params.get("customer"),
            *ids[:1],
            params.get("payment_intent"),
            params.get("charge"),
            params.get("payment"),  # the control API's disputes
        ):
            clock = clock_of(store, _customer_behind(store, candidate))
            if clock is not None:
                break
    if clock is None:
        yield
        return
    with CLOCK.pinned(clock["frozen_time"], clock["id"]):
        yield


def get_clock(store: Store, clock_id, *, param: str = "id") -> dict:
    clock = store.find(OBJECT, clock_id) if isinstance(clock_id, str) else None
    if clock is None:
        raise missing_resource("test_clock", str(clock_id), param)
    return clock


def check_attachable(store: Store, clock_id, *, param: str) -> dict:
    """A customer may join this clock (it exists and has room)."""
    clock = get_clock(store, clock_id, param=param)
    members = [c for c in store.of_type("customer") if c.get("test_clock") == clock["id"]]
    if len(members) >= MAX_CUSTOMERS:
        raise invalid(
            f"Test clock {clock['id']} already has {MAX_CUSTOMERS} customers, the most a "
            "test clock can hold.",
            code="parameter_invalid",
            param=param,
        )
    return clock


# --- the API -------------------------------------------------------------------------------
class TestClocks:
    def __init__(self, store: Store, timers: Timers):
        self.store = store
        self.timers = timers

    def create(self, params: dict, ctx: RequestContext) -> dict:
        name = params.get("name")
        if name is not None and len(name) > MAX_NAME:
            raise invalid(
                f"Invalid string: the name must be at most {MAX_NAME} characters.",
                code="parameter_invalid",
                param="name",
            )
        customer = None
        if params.get("customer"):
            customer = self.store.get("customer", params["customer"], param="customer")
            if customer.get("test_clock"):
                raise invalid(
                    f"Customer {customer['id']} is already attached to test clock "
                    f"{customer['test_clock']}.",
                    code="parameter_invalid",
                    param="customer",
                )
        created = now()
        clock = {
            "id": new_id("clock"),
            "object": OBJECT,
            "created": created,
            "deletes_after": created + LIFETIME,
            "frozen_time": params["frozen_time"],
            "livemode": False,
            "name": name,
            "status": "ready",
            "status_details": {},
        }
        self.store.add(clock)
        if customer is not None:
            customer["test_clock"] = clock["id"]
        self.timers.at(clock["deletes_after"], lambda: self._expire(clock["id"]), clock=None)
        self.store.emit(f"{OBJECT}.created", clock, ctx)
        return clock

    def advance(self, clock: dict, params: dict, ctx: RequestContext) -> dict:
        target = params["frozen_time"]
        if clock["status"] != "ready":
            raise invalid(
                f"Test clock {clock['id']} is {clock['status']}: it can be advanced again "
                "once its status is ready."
            )
        if target <= clock["frozen_time"]:
            raise invalid(
                f"The frozen_time must be after the test clock's current frozen time "
                f"({clock['frozen_time']}).",
                code="parameter_invalid",
                param="frozen_time",
            )
        if target > clock["frozen_time"] + MAX_AHEAD:
            raise invalid(
                "A test clock with no subscriptions cannot be advanced more than two years "
                "ahead of its current frozen time.",
                code="parameter_invalid",
                param="frozen_time",
            )
        clock["status"] = "advancing"
        clock["status_details"] = {"advancing": {"target_frozen_time": target}}
        self.store.emit(f"{OBJECT}.advancing", clock, ctx)
        # The answer says `advancing`; the work starts once this request lets go of the lock.
        threading.Thread(
            target=self._move, args=(clock["id"], target), name="test-clock", daemon=True
        ).start()
        return clock

    def _move(self, clock_id: str, target: int) -> None:
        with self.store.lock:
            clock = self.store.find(OBJECT, clock_id)
            if clock is None or clock["status"] != "advancing":
                return  # deleted, or the emulator was reset meanwhile

            def step(due: float) -> None:
                clock["frozen_time"] = max(clock["frozen_time"], int(due))

            self.timers.run_due(clock_id, target, on_step=step)
            clock.update(frozen_time=target, status="ready", status_details={})
            self.store.emit(f"{OBJECT}.ready", clock)

    def delete(self, clock: dict, ctx: RequestContext) -> dict:
        """The clock goes, and its customers with it (their payments stay)."""
        for customer in self.store.of_type("customer"):
            if customer.get("test_clock") == clock["id"]:
                del self.store.objects[customer["id"]]
                self.store.emit("customer.deleted", customer, ctx)
        self.timers.forget(clock["id"])
        del self.store.objects[clock["id"]]
        self.store.emit(f"{OBJECT}.deleted", clock, ctx)
        return {"id": clock["id"], "object": OBJECT, "deleted": True}

    def _expire(self, clock_id: str) -> None:
        clock = self.store.find(OBJECT, clock_id)
        if clock is not None:
            self.delete(clock, RequestContext())
