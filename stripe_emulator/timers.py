"""What time causes: deadlines kept in emulator time, acted on when their clock reaches them.

A timer belongs to one clock: the emulator's own (`None`: the wall clock plus what
`/_emulator/clock/advance` added) or a test clock (its id), whichever was current when it
was set (`CLOCK.source()`: work for a test clock's customer runs pinned to that clock).

- The emulator's timers fall due by themselves: a thread looks every quarter second, as
  Stripe's own schedulers do in real time during `make run`; `CLOCK.advance` runs at once
  what the jump made due.
- A test clock's time stands still until it is advanced; its timers run then, in the order
  they fall due, each pinned to its due time, so the objects and their `canceled_at` or
  `created` say when it happened in the clock's time.

Each action runs under the store's lock and checks for itself that it still applies (a
session paid meanwhile is not expired). An action may set another timer; one that is due
already runs in the same pass.
"""

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from stripe_emulator.clock import CLOCK

logger = logging.getLogger("stripe_emulator")

Action = Callable[[], None]


class Timers:
    def __init__(self, lock: threading.RLock):
        self.lock = lock
        # clock id (None: the emulator's own) → heap of (due, sequence, action)
        self._heaps: dict[str | None, list[tuple[float, int, Action]]] = {}
        self._sequence = itertools.count()

    def at(self, due: float, action: Action, *, clock: str | None = ...) -> None:
        """Run `action` when the clock (default: this thread's, see module doc) reaches `due`."""
        source = CLOCK.source() if clock is ... else clock
        with self.lock:
            heapq.heappush(self._heaps.setdefault(source, []), (due, next(self._sequence), action))

    def after(self, seconds: float, action: Action) -> None:
        """Run `action` `seconds` from now, in this thread's time."""
        self.at(CLOCK.now() + seconds, action)

    def pending(self, clock: str | None = None) -> int:
        with self.lock:
            return len(self._heaps.get(clock, []))

    def run_due(self, clock: str | None, moment: float, on_step=None) -> int:
        """Run every timer of `clock` due at `moment`, earliest first; how many ran.

        `on_step(due)` is called before each (a test clock shows its time moving)."""
        ran = 0
        with self.lock:
            heap = self._heaps.get(clock)
            while heap and heap[0][0] <= moment:
                due, _, action = heapq.heappop(heap)
                if on_step is not None:
                    on_step(due)
                with CLOCK.pinned(due, clock):
                    try:
                        action()
                    except Exception:  # one broken timer must not stop the others
                        logger.exception("a timer failed")
                ran += 1
        return ran

    def forget(self, clock: str | None) -> None:
        """Drop a clock's timers (a deleted test clock)."""
        with self.lock:
            self._heaps.pop(clock, None)

    def clear(self) -> None:
        with self.lock:
            self._heaps.clear()

    # --- the emulator's own time ---------------------------------------------------------
    def _on_advance(self, moment: float) -> None:
        self.run_due(None, moment)

    def start(self, stop: threading.Event, interval: float = 0.25) -> None:
        """Act on the emulator's timers as they fall due, and at once after a clock jump."""
        CLOCK.on_advance(self._on_advance)

        def run():
            while not stop.wait(interval):
                self.run_due(None, CLOCK.own_now())

        threading.Thread(target=run, name="emulator-timers", daemon=True).start()

    def stop(self) -> None:
        CLOCK.off_advance(self._on_advance)
