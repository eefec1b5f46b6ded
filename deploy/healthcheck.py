"""Exit 0 when the shop's web process answers its health check, else 1.

The container's HEALTHCHECK and compose.yaml's run it inside the web container:
`python deploy/healthcheck.py [path]` (default /api/v1/health/; /api/v1/health/ready/ for
readiness). It asks GUNICORN_BIND (host:port, or unix:/path) with the first of
ALLOWED_HOSTS as the Host, so Django's host check passes.
"""

import http.client
import os
import socket
import sys


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def main(path: str = "/api/v1/health/") -> int:
    bind = os.environ.get("GUNICORN_BIND", "unix:/run/shop/gunicorn.sock")
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost"
    if bind.startswith("unix:"):
        connection = _UnixConnection(bind[len("unix:") :])
    else:
        address, _, port = bind.rpartition(":")
        address = "127.0.0.1" if address in ("", "0.0.0.0") else address.strip("[]")  # noqa: S104
        connection = http.client.HTTPConnection(address, int(port), timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"healthcheck: {bind}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    print(f"healthcheck: {path} {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
