"""The HTTP server: routes `/v1/` (API), `/_emulator/` (control) and the hosted pages.

`ThreadingHTTPServer` bound to 127.0.0.1 only, one thread per request; all state changes go
through the store's lock. Log lines name the method, the path without its query (a query
can carry a client_secret) and the status: never a key, a body or a header.
"""

import json
import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stripe_emulator import (  # noqa: F401 (fills api.ROUTES)
    api,
    checkout_page,
    control,
    endpoints,
    event_endpoints,
    test_clock_endpoints,
)
from stripe_emulator.emulator import Emulator

logger = logging.getLogger("stripe_emulator")

HOST = "127.0.0.1"
MAX_BODY_BYTES = 1024 * 1024
CORS_HEADERS = {
    # Stripe's API answers any origin: a browser page can use it as Stripe.js does.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account"
    ),
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Stripe-Should-Retry",
    "Access-Control-Max-Age": "300",
}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        super().__init__((HOST, emulator.config.port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    server_version = "stripe-emulator"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    # --- plumbing ------------------------------------------------------------------------
    def log_message(self, format, *args):
        pass  # replaced by _log: the default line would include the query string

    def _log(self, status: int) -> None:
        logger.info("%s %s %s", self.command, self.path.split("?", 1)[0], status)

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send_json(
                400, {"error": {"type": "invalid_request_error", "message": "Bad length"}}
            )
            return None
        if length > MAX_BODY_BYTES:
            self._send_json(
                413, {"error": {"type": "invalid_request_error", "message": "Too large"}}
            )
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status)

    def _send_json(self, status: int, payload, headers=None) -> None:
        body = json.dumps(payload, indent=2).encode()
        self._send(status, body, "application/json", headers)

    def _split(self) -> tuple[str, str]:
        path, _, query = self.path.partition("?")
        return path, query

    # --- dispatch ---------------------------------------------------------------------------
    def do_OPTIONS(self):
        if not control.loopback_host(self.headers.get("Host")):
            self._send_json(400, {"error": {"message": "unknown Host"}})
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        if not self.path.startswith("/_emulator/"):  # never grant a page the control API
            for name, value in CORS_HEADERS.items():
                self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._log(204)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self._route()
        except Exception:
            # A bug in the emulator: answer like Stripe's own 500 rather than dropping the
            # connection (which the SDK would report as a network error).
            logger.exception("%s %s failed", self.command, self.path.split("?", 1)[0])
            self._send_json(
                500,
                {"error": {"type": "api_error", "message": "The emulator failed (see its log)."}},
            )

    def _route(self) -> None:
        path, query = self._split()
        if not control.loopback_host(self.headers.get("Host")):
            # Bound to 127.0.0.1 only, but a browser page can rebind its own name to it.
            self._send_json(400, {"error": {"message": "unknown Host"}})
            return
        body = self._read_body()
        if body is None:
            return
        emulator = self.server.emulator
        if path.startswith("/v1/"):
            self._api(emulator, path, query, body)
        elif path.startswith("/_emulator/"):
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                self._send_json(403, {"error": {"message": "loopback only"}})
                return
            refused = control.cross_site_refusal(self.command, self.headers)
            if refused:
                self._send_json(refused[0], {"error": {"message": refused[1]}})
                return
            status, payload = control.handle(emulator, self.command, path, query, body)
            self._send_json(status, payload)
        elif path.startswith("/c/pay/") and path.count("/") == 3:
            session_id = path.rsplit("/", 1)[1]
            if self.command == "POST":
                page = checkout_page.checkout_post(emulator, session_id, body)
            else:
                page = checkout_page.checkout_get(emulator, session_id)
            self._page(page)
        elif path.startswith("/3ds/") and path.count("/") == 2:
            intent_id = path.rsplit("/", 1)[1]
            if self.command == "POST":
                page = checkout_page.three_d_secure_post(emulator, intent_id, body)
            else:
                page = checkout_page.three_d_secure_get(emulator, intent_id)
            self._page(page)
        else:
            self._send_json(404, {"error": {"message": "Not found"}})

    def _api(self, emulator, path: str, query: str, body: bytes) -> None:
        if emulator.latency_ms:
            time.sleep(emulator.latency_ms / 1000)  # this request's thread only
        response = api.handle(emulator, self.command, path, query, body, self.headers)
        if response.hang_seconds:
            # An injected timeout: keep the client waiting past its read timeout, then drop
            # the connection without an answer (a reset ends the wait early).
            emulator.faults.release.wait(response.hang_seconds)
            self.close_connection = True
            self._log(0)
            return
        self._send_json(response.status, response.body, {**CORS_HEADERS, **response.headers})

    def _page(self, page: checkout_page.Page) -> None:
        if page.location is not None:
            self._send(
                page.status,
                b"",
                "text/plain",
                {"Location": page.location, "Cache-Control": "no-store"},
            )
            return
        self._send(
            page.status,
            page.html.encode(),
            "text/html; charset=utf-8",
            {
                "Cache-Control": "no-store",
                # No form-action: browsers apply it to the redirect to success_url too.
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "X-Frame-Options": "DENY",
            },
        )


def serve(emulator: Emulator) -> EmulatorServer:
    return EmulatorServer(emulator)
