"""`python -m stripe_emulator --port N`: see the package docstring."""

import argparse
import logging
import os
import signal
import sys

from stripe_emulator import control
from stripe_emulator.cards import reference
from stripe_emulator.emulator import Config, Emulator
from stripe_emulator.retry_schedule import SCHEDULES
from stripe_emulator.server import HOST, serve


def parse_args(argv=None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_emulator",
        description="An offline, in-memory Stripe emulator for development and tests.",
        epilog=reference.help_text() + "\n\n" + control.help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        help="deliver every event to this URL (repeatable)",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_SECRET"),
        help="whsec_... signing secret for the --webhook-url endpoints (default: "
        "$STRIPE_EMULATOR_WEBHOOK_SECRET, else random; read it from "
        "GET /_emulator/webhook_endpoints)",
    )
    parser.add_argument(
        "--retry-schedule",
        choices=SCHEDULES,
        default=None,
        help="when failed webhook deliveries are retried, in the emulator's time: 'test' "
        "(Stripe's test mode: 3 retries over 3.5 hours; the default), 'live' (Stripe's live "
        "mode: exponential back-off for up to 3 days) or 'fast' (--retry-base-seconds and "
        "--max-delivery-attempts; the default when either is given)",
    )
    parser.add_argument(
        "--retry-base-seconds",
        type=float,
        default=None,
        help="fast schedule: retry after base * 2^(n-1) seconds (default 1)",
    )
    parser.add_argument(
        "--max-delivery-attempts",
        type=int,
        default=None,
        help="fast schedule: give up after this many attempts (default 5)",
    )
    parser.add_argument("--webhook-timeout-seconds", type=float, default=10.0)
    parser.add_argument(
        "--async-delay-seconds",
        type=float,
        default=5.0,
        help="delayed payment methods settle by themselves after this long (0: only "
        "through the control API)",
    )
    parser.add_argument(
        "--hang-seconds",
        type=float,
        default=30.0,
        help="how long an injected timeout fault hangs by default",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="wait this long before every API answer, as Stripe's network round trip would",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log lines")
    args = parser.parse_args(argv)
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        parser.error("--webhook-secret must start with whsec_")
    if args.max_delivery_attempts is not None and args.max_delivery_attempts < 1:
        parser.error("--max-delivery-attempts must be 1 or more")
    if args.retry_base_seconds is not None and args.retry_base_seconds < 0:
        parser.error("--retry-base-seconds must be 0 or more")
    fast_given = args.retry_base_seconds is not None or args.max_delivery_attempts is not None
    schedule = args.retry_schedule or ("fast" if fast_given else "test")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    return Config(
        port=args.port,
        webhook_urls=tuple(args.webhook_url),
        webhook_secret=args.webhook_secret,
        retry_schedule=schedule,
        retry_base_seconds=1.0 if args.retry_base_seconds is None else args.retry_base_seconds,
        max_delivery_attempts=args.max_delivery_attempts or 5,
        webhook_timeout_seconds=args.webhook_timeout_seconds,
        async_delay_seconds=args.async_delay_seconds,
        hang_seconds=args.hang_seconds,
        latency_ms=max(0.0, args.latency_ms),
    )


def main(argv=None) -> None:
    config = parse_args(argv)
    emulator = Emulator(config)
    server = serve(emulator)
    # SIGTERM (what tests and process managers send) ends the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.getLogger("stripe_emulator").warning(
        "Stripe emulator listening on http://%s:%s (API at /v1/, control at /_emulator/)",
        HOST,
        server.server_address[1],
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        emulator.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
