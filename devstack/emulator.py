"""The offline Stripe (`python -m stripe_emulator`) on a loopback port, and its control API."""

import json
import urllib.error
import urllib.request

from devstack.ports import free_port
from devstack.process import PYTHON, Process


class Emulator(Process):
    """`python -m stripe_emulator` on a free port.

    The defaults suit a test on loopback: the `fast` retry schedule (failed deliveries
    retried after 0.05 s, 0.1 s ...), a receiver given 2 s to answer, delayed payment
    methods settled only through the control API. None leaves the emulator's own default
    (for the retry base 1 s, for the timeout 10 s; see docs/emulator.md). A test of Stripe's
    own schedule passes `retry_schedule="test"` (or "live") and advances the clock.
    `args` are passed on last, so they win over these.
    """

    name = "stripe-emulator"
    api_key = "sk_test_emulator_tests"

    def __init__(
        self,
        *args: str,
        webhook_urls=(),
        webhook_secret: str | None = None,
        retry_schedule: str | None = "fast",
        retry_base_seconds: float | None = 0.05,
        webhook_timeout_seconds: float | None = 2,
        async_delay_seconds: float | None = 0,
        quiet: bool = False,
        env: dict | None = None,
        **options,
    ):
        self.port = free_port()
        argv = [PYTHON, "-m", "stripe_emulator", "--port", str(self.port)]
        if quiet:
            argv.append("--quiet")
        for flag, value in (
            ("--retry-schedule", retry_schedule),
            ("--retry-base-seconds", retry_base_seconds),
            ("--async-delay-seconds", async_delay_seconds),
            ("--webhook-timeout-seconds", webhook_timeout_seconds),
        ):
            if value is not None:
                argv += [flag, str(value)]
        argv += list(args)
        for url in webhook_urls:
            argv += ["--webhook-url", url]
        if webhook_secret:
            argv += ["--webhook-secret", webhook_secret]
        super().__init__(argv, env, **options)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return self.control("GET", "/health")[0] == 200
        except OSError:
            return False

    def control(self, method: str, path: str, body: dict | None = None):
        """Call `/_emulator<path>`; returns (status, JSON body)."""
        request = urllib.request.Request(  # noqa: S310 (loopback http)
            f"{self.url}/_emulator{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def set_latency(self, ms: float) -> None:
        """Wait `ms` before every API answer, as a far-away Stripe would (0: loopback)."""
        status, body = self.control("POST", "/latency", {"ms": ms})
        if status != 200:
            raise RuntimeError(f"POST /_emulator/latency answered {status}: {body}")

    def list_all(self, resource: str, api_key: str | None = None) -> list[dict]:
        """Every object of a list endpoint (`payment_intents`, `checkout/sessions`, ...)."""
        objects, after = [], None
        for _ in range(1000):  # bounded: 100 000 objects
            query = "limit=100" + (f"&starting_after={after}" if after else "")
            request = urllib.request.Request(  # noqa: S310 (loopback http)
                f"{self.url}/v1/{resource}?{query}",
                headers={"Authorization": f"Bearer {api_key or self.api_key}"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                page = json.loads(response.read())
            objects += page["data"]
            if not page.get("has_more") or not page["data"]:
                break
            after = page["data"][-1]["id"]
        return objects

    def client(self, api_key: str | None = None, *, timeout=10.0, retries=0):
        """A `stripe.StripeClient` on the emulator, at the API version the settings pin."""
        import stripe
        from django.conf import settings

        return stripe.StripeClient(
            api_key or self.api_key,
            base_addresses={"api": self.url},
            stripe_version=settings.STRIPE_API_VERSION,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
