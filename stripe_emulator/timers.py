"""Actions that fall due at a moment of the emulator's clock (a bank settling a debit, a
refund failing days later).

Each action runs once, under the store's lock: when its delay has passed on the wall
clock, or as soon as `POST /_emulator/clock/advance` moves the clock past its moment,
whichever comes first.
"""

import heapq
import itertools
import threading
from collections.abc import Callable

from stripe_emulator.clock import CLOCK


class Timers:
    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        CLOCK.on_advance(self.run_due)

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        with self.lock:
            heapq.heappush(self._due, (CLOCK.now() + seconds, next(self._order), action))
        timer = threading.Timer(seconds, self.run_due)
        timer.daemon = True
        timer.start()

    def run_due(self, _moment: float | None = None) -> None:
        with self.lock:
            while self._due and self._due[0][0] <= CLOCK.now():
                _, _, action = heapq.heappop(self._due)
                action()

    def stop(self) -> None:
        CLOCK.off_advance(self.run_due)
        with self.lock:
            self._due.clear()
