"""Free loopback ports, and waiting for something to become true."""

import socket
import time


class WaitTimedOut(AssertionError):
    """`wait_until` gave up (an AssertionError, so pytest reports it as a failed check)."""


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_until(condition, timeout: float = 20.0, interval: float = 0.05, what="condition"):
    """Call `condition` until it returns something true; WaitTimedOut after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise WaitTimedOut(f"timed out after {timeout:.0f}s waiting for {what}")
