"""One emulator instance: the store and the parts that act on it, wired together."""

import threading
from dataclasses import dataclass

import stripe

from stripe_emulator.account import platform_account
from stripe_emulator.checkout import Checkout
from stripe_emulator.clock import CLOCK
from stripe_emulator.customers import Customers
from stripe_emulator.faults import Faults
from stripe_emulator.payments import Payments
from stripe_emulator.retry_schedule import RetrySchedule
from stripe_emulator.state import Store
from stripe_emulator.test_clocks import TestClocks
from stripe_emulator.timers import Timers
from stripe_emulator.webhooks import Webhooks


@dataclass(frozen=True)
class Config:
    port: int
    webhook_urls: tuple[str, ...] = ()
    # The secret for the --webhook-url endpoints; random (and readable through the
    # control API, never logged) when not given.
    webhook_secret: str | None = None
    # Stripe's test-mode schedule unless told otherwise (retry_schedule.py); the base and
    # the attempts apply to the `fast` schedule only.
    retry_schedule: str = "test"
    retry_base_seconds: float = 1.0
    max_delivery_attempts: int = 5
    webhook_timeout_seconds: float = 10.0
    async_delay_seconds: float = 5.0
    hang_seconds: float = 30.0
    # Added before every API answer (not the control API): Stripe is a network round trip
    # away, typically 100-300 ms; 0 answers at loopback speed.
    latency_ms: float = 0.0
    api_version: str = stripe.api_version

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Emulator:
    def __init__(self, config: Config):
        self.config = config
        self.latency_ms = config.latency_ms  # the control API can change it while running
        self.store = Store(api_version=config.api_version)
        self.account = platform_account()  # not in the store: a reset keeps it
        # What time causes (expiry, settlement), in the emulator's or a test clock's time.
        self.timers = Timers(self.store.lock)
        self.customers = Customers(self.store)
        self.test_clocks = TestClocks(self.store, self.timers)
        self.payments = Payments(
            self.store,
            base_url=config.base_url,
            async_delay=config.async_delay_seconds,
            timers=self.timers,
        )
        self.checkout = Checkout(
            self.store, self.payments, base_url=config.base_url, timers=self.timers
        )
        self.webhooks = Webhooks(
            self.store,
            schedule=RetrySchedule(
                config.retry_schedule, config.retry_base_seconds, config.max_delivery_attempts
            ),
            timeout=config.webhook_timeout_seconds,
        )
        self.faults = Faults(config.hang_seconds)
        self._stop = threading.Event()
        self._configured_secret = config.webhook_secret
        self._register_configured_endpoints()
        self.timers.start(self._stop)

    def _register_configured_endpoints(self) -> None:
        with self.store.lock:
            for url in self.config.webhook_urls:
                created = self.webhooks.endpoints.create(
                    {"url": url, "enabled_events": ["*"], "description": "--webhook-url"},
                    secret=self._configured_secret,
                )
                # Every configured URL shares one secret, so one value configures the shop.
                self._configured_secret = created["secret"]

    def reset(self) -> None:
        """Forget every object and event; the --webhook-url endpoints and latency come back,
        and the clock goes back to the wall clock."""
        self.faults.clear()
        self.latency_ms = self.config.latency_ms
        CLOCK.reset()
        with self.webhooks.quiet(), self.store.lock:
            self.webhooks.reset()
            self.timers.clear()
            self.store.clear()
            self._register_configured_endpoints()

    def shutdown(self) -> None:
        self._stop.set()
        self.timers.stop()
        self.webhooks.stop()
        self.faults.clear()
