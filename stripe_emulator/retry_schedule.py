"""When a failed webhook delivery is tried again: Stripe's schedules, and a fast one for tests.

Stripe documents two schedules. In a sandbox (test mode) a failed delivery is retried three
times over a few hours; in live mode it is retried with exponential back-off for up to three
days. Stripe does not publish the individual intervals, so the emulator fixes them:

- `test` (the default): retries 30 minutes, 1 hour and 2 hours after the previous attempt,
  so four attempts over three and a half hours.
- `live`: the first retry 5 minutes after the first attempt, each wait twice the one before
  and at most 12 hours, for as long as the next attempt falls within three days of the first
  (13 attempts in all).
- `fast`: `--retry-base-seconds` * 2^(n-1) seconds after attempt n, up to
  `--max-delivery-attempts` attempts. Test suites and fault runs use it, so a receiver that
  was down a moment gets its retry at once.

Waits are in the emulator's time (clock.py): a test advances the clock by 30 minutes and the
first retry of the `test` schedule goes out.
"""

from dataclasses import dataclass

from stripe_emulator.clock import CLOCK

MINUTE, HOUR, DAY = 60, 3600, 86400
SCHEDULES = ("test", "live", "fast")
TEST_MODE_WAITS = (30 * MINUTE, 1 * HOUR, 2 * HOUR)
LIVE_FIRST_WAIT, LIVE_LONGEST_WAIT, LIVE_WINDOW = 5 * MINUTE, 12 * HOUR, 3 * DAY


@dataclass(frozen=True)
class RetrySchedule:
    name: str = "test"
    base_seconds: float = 1.0  # fast only
    max_attempts: int = 5  # fast only

    def __post_init__(self):
        if self.name not in SCHEDULES:
            raise ValueError(f"unknown retry schedule {self.name!r}; one of {', '.join(SCHEDULES)}")

    def wait_after(self, attempt: int, since_first: float = 0.0) -> float | None:
        """Seconds from failed attempt `attempt` (1-based) to the next one; None: give up.

        `since_first`: seconds from the first attempt to this failed one (the live
        schedule stops three days after the first attempt).
        """
        if self.name == "test":
            return TEST_MODE_WAITS[attempt - 1] if attempt <= len(TEST_MODE_WAITS) else None
        if self.name == "live":
            wait = min(LIVE_FIRST_WAIT * 2 ** (attempt - 1), LIVE_LONGEST_WAIT)
            return wait if since_first + wait <= LIVE_WINDOW else None
        return self.base_seconds * 2 ** (attempt - 1) if attempt < self.max_attempts else None

    def describe(self) -> dict:
        """The schedule as the control API shows it: the waits between attempts."""
        waits, attempt, elapsed = [], 1, 0.0
        while (wait := self.wait_after(attempt, elapsed)) is not None:
            waits.append(wait)
            elapsed += wait
            attempt += 1
        return {"name": self.name, "attempts": attempt, "waits_seconds": waits}


def delivery_time() -> float:
    """The emulator's own time, in which events are sent, retried and kept.

    Never a test clock's: `CLOCK.now()` can answer a test clock's frozen time on a thread
    working for that clock's customer, but Stripe sends (and keeps) an event when it
    happens, so due times, failure runs and the Events API's 30 days follow the clock's
    offset alone (`CLOCK.own_now()`).
    """
    return CLOCK.own_now()
