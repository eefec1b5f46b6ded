"""`gunicorn config.wsgi:application` on a loopback port or a Unix socket."""

import http.client
import json
import socket

from devstack.ports import free_port
from devstack.process import PYTHON, Process

HEALTH_PATH = "/api/v1/health/"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: what nginx does with `proxy_pass http://unix:...`."""

    def __init__(self, socket_path: str, timeout: float = 10.0):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Gunicorn(Process):
    """The project served by gunicorn: `workers` processes (`threads` each, when given).

    Binds 127.0.0.1 on a free port (`url`), or `socket_path` when given. Ready when the
    health endpoint answers 200. `env` is the whole environment of the server.
    """

    name = "gunicorn"

    def __init__(
        self,
        env: dict | None = None,
        *,
        socket_path: str | None = None,
        workers: int = 2,
        threads: int | None = None,
        worker_class: str | None = None,
        timeout: int = 60,
        backlog: int | None = None,
        log_level: str | None = None,
        app: str = "config.wsgi:application",
        **options,
    ):
        self.socket_path = socket_path
        self.port = None if socket_path else free_port()
        self.workers = workers
        bind = f"unix:{socket_path}" if socket_path else f"127.0.0.1:{self.port}"
        argv = [PYTHON, "-m", "gunicorn", app, "--bind", bind, "--workers", str(workers)]
        for flag, value in (
            ("--threads", threads),
            ("--worker-class", worker_class),
            ("--timeout", timeout),
            ("--backlog", backlog),
            ("--log-level", log_level),
        ):
            if value is not None:
                argv += [flag, str(value)]
        super().__init__(argv, env, **options)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return self.request("GET", HEALTH_PATH, timeout=2)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        if self.socket_path:
            return UnixHTTPConnection(self.socket_path, timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: dict | None = None, headers=None, timeout=10.0):
        """(status, headers, parsed JSON body or None), over TCP or the Unix socket."""
        connection = self.connection(timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            sent = {"Host": "127.0.0.1", **({"Content-Type": "application/json"} if data else {})}
            connection.request(method, path, body=data, headers={**sent, **(headers or {})})
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, dict(response.getheaders()), parsed
        finally:
            connection.close()
