"""Injected API failures: the next N calls answer 500 or 429, or hang past the read timeout.

`when="before"` fails the call without doing anything (Stripe never saw it);
`when="after"` does the work, stores the idempotent answer, then fails the reply (Stripe
did it, but the answer was lost): a client that retries with the same Idempotency-Key then
gets the stored answer, which is what Stripe's idempotency is for.
"""

import threading
from dataclasses import dataclass

from stripe_emulator.errors import StripeAPIError

KINDS = ("500", "429", "timeout")


@dataclass
class Fault:
    kind: str
    remaining: int
    when: str = "before"
    path_prefix: str = "/v1/"
    hang_seconds: float = 30.0

    def error(self) -> StripeAPIError:
        if self.kind == "429":
            return StripeAPIError(
                429,
                "Too many requests hit the API too quickly (injected by the emulator).",
                code="rate_limit",
            )
        return StripeAPIError(
            500, "An unknown error occurred (injected by the emulator).", type_="api_error"
        )


class Faults:
    def __init__(self, default_hang_seconds: float = 30.0):
        self.default_hang_seconds = default_hang_seconds
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        # Set on reset so hanging requests end at once instead of holding threads.
        self.release = threading.Event()

    def add(self, kind: str, count: int = 1, *, when="before", path_prefix="/v1/", hang=None):
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        fault = Fault(
            kind,
            int(count),
            when,
            path_prefix,
            float(hang if hang is not None else self.default_hang_seconds),
        )
        with self._lock:
            self.release.clear()
            self._faults.append(fault)
        return fault

    def take(self, path: str, when: str) -> Fault | None:
        """The fault for this call, if one is armed (and count it as used)."""
        with self._lock:
            for fault in self._faults:
                if fault.when == when and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def armed(self) -> list[dict]:
        with self._lock:
            return [vars(f).copy() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.release.set()
