"""A loopback HTTP server in this process that records the webhooks it is sent."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Records every POST (headers, body, the status it answered) on `url`.

    `fail_next(n)` answers the next n deliveries with a 500, as a broken receiver would.
    """

    def __init__(self):
        receiver = self
        self.received: list[dict] = []
        self.failures_left = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.failures_left > 0
                    receiver.failures_left -= 1 if failing else 0
                    receiver.received.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "answered": 500 if failing else 200,
                        }
                    )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def start(self):
        self.thread.start()
        return self

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def events(self, answered: int | None = None) -> list[dict]:
        """The JSON bodies received (only those answered `answered`, when given)."""
        with self.lock:
            return [
                json.loads(r["body"])
                for r in self.received
                if answered is None or r["answered"] == answered
            ]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.failures_left = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
