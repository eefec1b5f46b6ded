"""The emulator's clock: what "now" is for every timestamp and every timer it keeps.

Stripe's time is the wall clock. Tests need days to pass in a second (a Checkout Session's
24 hours, an authorization's 7 days, the webhook retry schedule's three days), so the
emulator reads time through one `Clock`: the wall clock plus an offset that only grows.
`advance(seconds)` moves it forward and then runs every listener registered with
`on_advance`, in registration order, so the parts that keep timers (session expiry,
bank settlement, webhook retries, ...) act on what became due at once.

Listeners run on the caller's thread without the clock's lock; they take the store's lock
themselves when they change objects.

Work done for a test clock's customer lives in that clock's time: `pinned(moment, source)`
makes `now()` answer `moment` on this thread while it lasts, and `source()` names the test
clock (None: the emulator's own time), so timers set meanwhile follow the same clock.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []
        self._local = threading.local()

    def now(self) -> float:
        """Seconds since the epoch, in the emulator's time (or a pinned test clock's)."""
        pinned = getattr(self._local, "pinned", None)
        return pinned[0] if pinned is not None else self.own_now()

    def own_now(self) -> float:
        """The emulator's own time, whatever this thread has pinned."""
        return time.time() + self._offset

    def source(self) -> str | None:
        """The test clock whose time this thread lives in, or None."""
        pinned = getattr(self._local, "pinned", None)
        return pinned[1] if pinned is not None else None

    @contextlib.contextmanager
    def pinned(self, moment: float, source: str | None) -> Iterator[None]:
        """On this thread, `now()` is `moment` (a test clock's frozen time) until the end."""
        previous = getattr(self._local, "pinned", None)
        self._local.pinned = (moment, source)
        try:
            yield
        finally:
            self._local.pinned = previous

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
        moment = self.own_now()
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
