"""The emulator's clock: what "now" is for every timestamp and every timer it keeps.

Stripe's time is the wall clock. Tests need days to pass in a second (a Checkout Session's
24 hours, an authorization's 7 days, the webhook retry schedule's three days), so the
emulator reads time through one `Clock`: the wall clock plus an offset that only grows.
`advance(seconds)` moves it forward and then runs every listener registered with
`on_advance`, in registration order, so the parts that keep timers (session expiry,
bank settlement, webhook retries, ...) act on what became due at once.

Listeners run on the caller's thread without the clock's lock; they take the store's lock
themselves when they change objects.
"""

import threading
import time
from collections.abc import Callable


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []

    def now(self) -> float:
        """Seconds since the epoch, in the emulator's time."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` (never back); returns the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        moment = self.now()
        for listener in listeners:
            listener(moment)
        return moment

    def on_advance(self, listener: Callable[[float], None]) -> None:
        """Call `listener(now)` after every advance."""
        with self._lock:
            self._listeners.append(listener)

    def off_advance(self, listener: Callable[[float], None]) -> None:
        """Stop calling `listener` (an emulator shutting down in a process that goes on)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def reset(self) -> None:
        """Back to the wall clock (the control API's reset); listeners stay."""
        with self._lock:
            self._offset = 0.0


# One per process: an emulator process serves one emulator, and `state.now()` (used by
# every object builder) reads it.
CLOCK = Clock()
