"""Signed, retried delivery of events to webhook endpoints, with misbehaviour on demand.

Each event is queued once per enabled endpoint that takes its type when it is made, with
its payload fixed then (stamped with the endpoint's `api_version` when it has one). One
background thread sends due deliveries in order, signed the way Stripe signs them
(`Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`), and retries a
non-2xx answer or a connection error on the retry schedule (retry_schedule.py). Due times
are in the emulator's time: advancing the clock (clock.py) makes retries due at once. An
attempt finds its endpoint disabled or deleted: that event is not retried to it any more.
The control API can pause delivery, or make it duplicate, delay, reorder or drop
deliveries, to test a receiver against what Stripe is allowed to do.
"""

import contextlib
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from stripe_emulator.clock import CLOCK
from stripe_emulator.retry_schedule import RetrySchedule, delivery_time
from stripe_emulator.state import Store
from stripe_emulator.webhook_endpoints import WebhookEndpoints

logger = logging.getLogger(__name__)

MODES = ("duplicate", "delay", "reorder", "drop")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(order=True)
class _Delivery:
    due: float
    sequence: int
    event_id: str = field(compare=False)
    endpoint_id: str = field(compare=False)
    # The API version its payload is rendered at (the endpoint's, else the event's).
    version: str = field(compare=False, default="")
    attempt: int = field(compare=False, default=1)
    first_attempt_at: float | None = field(compare=False, default=None)
    # Decided when the event is made, so a mode covers exactly the events made while it
    # was on, however late the delivery thread gets to them.
    drop: bool = field(compare=False, default=False)
    duplicate: bool = field(compare=False, default=False)


@dataclass
class _Mode:
    remaining: int | None  # deliveries still affected; None: until cleared
    seconds: float = 0.0  # for delay
    batch: int = 2  # for reorder

    def use(self) -> bool:
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class Webhooks:
    def __init__(
        self,
        store: Store,
        *,
        schedule: RetrySchedule | None = None,
        timeout: float = 10.0,
    ):
        self.store = store
        self.endpoints = WebhookEndpoints(store)
        self.schedule = schedule or RetrySchedule()
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queue: list[_Delivery] = []
        self._held: list[_Delivery] = []  # reorder mode's batch
        self._sequence = itertools.count()
        self._paused = False
        self._modes: dict[str, _Mode] = {}
        self.log: list[dict] = []
        self._stop = threading.Event()
        # Held while one delivery is being sent, so a reset can wait for it: no delivery
        # from before a reset may arrive after it.
        self._sending = threading.Lock()
        store.event_listeners.append(self._enqueue_event)
        CLOCK.on_advance(self._clock_moved)
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
        self._thread.start()

    def secret_of(self, endpoint_id: str) -> str:
        return self.endpoints.secret_of(endpoint_id)

    # --- queueing (store lock held) ----------------------------------------------------------
    def _enqueue_event(self, event: dict) -> None:
        endpoints = self.endpoints.listening_to(event["type"])
        event["pending_webhooks"] = len(endpoints)
        private = self.store.private[event["id"]]
        # The payload is fixed when the event is made: later changes to the objects must not
        # leak into an event about an earlier moment. An endpoint with an `api_version` gets
        # the event stamped with it (the objects inside keep the emulator's one shape).
        versions = [e["api_version"] or event["api_version"] for e in endpoints]
        private["payloads"] = {
            version: json.dumps({**event, "api_version": version}, indent=2).encode()
            for version in dict.fromkeys(versions)
        }
        private["deliveries"] = {e["id"]: "pending" for e in endpoints}
        with self._cond:
            for endpoint, version in zip(endpoints, versions, strict=True):
                delivery = _Delivery(delivery_time(), 0, event["id"], endpoint["id"], version)
                self._push(delivery, fresh=True)
            self._cond.notify_all()

    def _clock_moved(self, moment: float) -> None:
        """The clock jumped: retries that fell due go out now."""
        with self._cond:
            self._cond.notify_all()

    def _push(self, delivery: _Delivery, *, fresh: bool = False) -> None:
        delivery.sequence = next(self._sequence)
        if fresh:
            drop = self._modes.get("drop")
            delivery.drop = drop is not None and drop.use()
            duplicate = self._modes.get("duplicate")
            delivery.duplicate = duplicate is not None and duplicate.use()
            delay = self._modes.get("delay")
            if delay is not None and delay.use():
                delivery.due += delay.seconds
            reorder = self._modes.get("reorder")
            if reorder is not None and reorder.use():
                self._held.append(delivery)
                if len(self._held) >= reorder.batch:
                    self._release_held()
                return
        heapq.heappush(self._queue, delivery)

    def _release_held(self) -> None:
        """Send the held batch newest first."""
        base = delivery_time()
        for offset, delivery in enumerate(reversed(self._held)):
            delivery.due = base + offset * 1e-6
            delivery.sequence = next(self._sequence)
            heapq.heappush(self._queue, delivery)
        self._held.clear()

    # --- control -------------------------------------------------------------------------
    def set_mode(self, mode: str, *, count=None, seconds=0.0, batch=2) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown delivery mode {mode!r}; one of {', '.join(MODES)}")
        with self._cond:
            self._modes[mode] = _Mode(count, float(seconds), max(2, int(batch)))

    def clear_mode(self, mode: str | None = None) -> None:
        with self._cond:
            if mode is None:
                self._modes.clear()
            else:
                self._modes.pop(mode, None)
            if "reorder" not in self._modes:
                self._release_held()
            self._cond.notify_all()

    def modes(self) -> dict:
        with self._cond:
            return {name: vars(mode).copy() for name, mode in self._modes.items()}

    def flush(self) -> None:
        """Release a reorder batch now, and make delayed deliveries due."""
        with self._cond:
            self._release_held()
            for delivery in self._queue:
                delivery.due = min(delivery.due, delivery_time())
            heapq.heapify(self._queue)
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def status(self) -> dict:
        with self._cond:
            return {
                "paused": self._paused,
                "queued": len(self._queue),
                "held": len(self._held),
                "modes": {name: vars(mode).copy() for name, mode in self._modes.items()},
                "retry_schedule": self.schedule.describe(),
            }

    @contextlib.contextmanager
    def quiet(self):
        """Wait for the delivery being sent (if any) and send nothing until the block ends.

        Take it before the store's lock: the delivery thread takes them in that order.
        """
        with self._sending:
            yield

    def reset(self) -> None:
        """Drop everything queued (inside `quiet()`, so nothing from before arrives after)."""
        with self._cond:
            self._queue.clear()
            self._held.clear()
            self._modes.clear()
            self._paused = False
            self.log.clear()
            self._cond.notify_all()

    def deliveries(self, event_id: str | None = None) -> list[dict]:
        with self._cond:
            return [d for d in self.log if event_id is None or d["event_id"] == event_id]

    def stop(self) -> None:
        self._stop.set()
        CLOCK.off_advance(self._clock_moved)
        with self._cond:
            self._cond.notify_all()

    # --- the delivery thread ------------------------------------------------------------------
    def _next_due(self) -> _Delivery | None:
        with self._cond:
            while not self._stop.is_set():
                if self._paused or not self._queue:
                    self._cond.wait(0.5)
                    continue
                wait = self._queue[0].due - delivery_time()
                if wait > 0:
                    self._cond.wait(min(wait, 0.5))
                    continue
                return heapq.heappop(self._queue)
        return None

    def _run(self) -> None:
        while True:
            delivery = self._next_due()
            if delivery is None:
                return
            try:
                with self._sending:
                    self._deliver(delivery)
            except Exception:  # the thread must outlive any one bad delivery
                logger.exception("webhook delivery %s crashed", delivery.event_id)

    def _deliver(self, delivery: _Delivery) -> None:
        with self.store.lock:
            event = self.store.find("event", delivery.event_id)
            endpoint = self.store.find("webhook_endpoint", delivery.endpoint_id)
            if event is None:  # reset
                return
            if endpoint is None or endpoint["status"] != "enabled":
                # Deleted or disabled since: Stripe stops retrying the event to it.
                self._settle(delivery, event, succeeded=False)
                return
            payload = self.store.private[event["id"]]["payloads"][delivery.version]
            secret = self.secret_of(endpoint["id"])
            url = endpoint["url"]
        if delivery.first_attempt_at is None:
            delivery.first_attempt_at = delivery_time()
        if delivery.drop:
            self._record(delivery, event, url, outcome="dropped", status=None, error=None)
            self._settle(delivery, event, succeeded=False)
            return
        status, error = self._post(url, payload, secret)
        ok = status is not None and 200 <= status < 300
        with self.store.lock:
            self.endpoints.attempt_made(delivery.endpoint_id, succeeded=ok)
        self._record(
            delivery,
            event,
            url,
            outcome="succeeded" if ok else "failed",
            status=status,
            error=error,
        )
        if delivery.duplicate and delivery.attempt == 1:
            dup_status, dup_error = self._post(url, payload, secret)
            self._record(
                delivery, event, url, outcome="duplicate", status=dup_status, error=dup_error
            )
        wait = None
        if not ok:
            since_first = delivery_time() - delivery.first_attempt_at
            wait = self.schedule.wait_after(delivery.attempt, since_first)
        if ok:
            self._settle(delivery, event, succeeded=True)
        elif wait is not None:
            delivery.attempt += 1
            delivery.due = delivery_time() + wait
            with self._cond:
                self._push(delivery)
                self._cond.notify_all()
        else:
            self._settle(delivery, event, succeeded=False)

    def _post(self, url: str, payload: bytes, secret: str) -> tuple[int | None, str | None]:
        request = urllib.request.Request(  # noqa: S310 (URL scheme checked on registration)
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                # The wall clock, not the emulator's: receivers compare the signature's
                # time with their own clock (Stripe's SDKs allow 300 s of difference).
                "Stripe-Signature": sign(payload, secret, int(time.time())),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (OSError, ValueError) as exc:
            return None, type(exc).__name__

    def _record(self, delivery, event, url, *, outcome, status, error) -> None:
        with self._cond:
            self.log.append(
                {
                    "event_id": event["id"],
                    "event_type": event["type"],
                    "endpoint_id": delivery.endpoint_id,
                    "url": url,
                    "attempt": delivery.attempt,
                    "outcome": outcome,
                    "status": status,
                    "error": error,
                    "at": delivery_time(),
                }
            )
        # The endpoint id, not its URL: a URL can carry a token in its query string.
        logger.info(
            "webhook %s %s -> %s attempt %s: %s %s",
            event["id"],
            event["type"],
            delivery.endpoint_id,
            delivery.attempt,
            outcome,
            status if status is not None else error,
        )

    def _settle(self, delivery: _Delivery, event: dict, *, succeeded: bool) -> None:
        with self.store.lock:
            private = self.store.private.get(event["id"])
            if private is None:
                return
            private["deliveries"][delivery.endpoint_id] = "succeeded" if succeeded else "failed"
            event["pending_webhooks"] = sum(
                1 for state in private["deliveries"].values() if state != "succeeded"
            )

    def delivery_succeeded(self, event: dict) -> bool:
        """Stripe's `delivery_success`: every endpoint has acknowledged the event."""
        states = self.store.private[event["id"]].get("deliveries", {})
        # A deleted endpoint no longer waits for anything.
        return all(
            state == "succeeded" or self.store.find("webhook_endpoint", endpoint_id) is None
            for endpoint_id, state in states.items()
        )
