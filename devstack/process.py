"""`Process`: a child process with its output in a log file, stopped by its own pid only."""

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from devstack.ports import wait_until

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the project's virtualenv when run as its scripts are

_running: list["Process"] = []  # started and not stopped yet, oldest first
_lock = threading.Lock()


class ProcessExited(RuntimeError):
    """The process ended while we waited for it to be ready."""


class Process:
    """`argv` run in the repository root; stdout and stderr go to `log_path`.

    The log is `<log_dir or $TMPDIR>/<log_prefix><name>-<random>.log`, opened for appending,
    so a process started again (after `stop()` or `kill9()`) adds to the same file. `start()`
    spawns it and waits until `ready()` (subclasses: the port answers, the log says so) for
    at most `ready_timeout` seconds, failing at once when the process exits meanwhile.
    """

    name = "process"
    ready_timeout = 60.0
    stop_timeout = 20.0

    def __init__(
        self,
        argv: list[str] | None = None,
        env: dict | None = None,
        *,
        log_dir: str | Path | None = None,
        log_prefix: str = "",
    ):
        self.argv = argv or []
        self.env = env
        directory = Path(log_dir or tempfile.gettempdir())
        self.log_path = directory / f"{log_prefix}{self.name}-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen | None = None

    # --- life ----------------------------------------------------------------------------
    def start(self):
        """Spawn it and wait until it is ready; returns self."""
        self.spawn()
        self.wait_ready()
        return self

    def spawn(self):
        """Spawn it without waiting."""
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(  # noqa: S603 (fixed argument lists)
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        with _lock:
            if self not in _running:
                _running.append(self)
        return self

    def ready(self) -> bool:
        """Whether it serves yet (subclasses); a plain process is ready once spawned."""
        return True

    def wait_ready(self) -> None:
        def ready() -> bool:
            if not self.alive():
                code = self.process.returncode if self.process else None
                raise ProcessExited(f"{self.name} exited ({code}):\n{self.output(3000)}")
            return self.ready()

        wait_until(ready, timeout=self.ready_timeout, interval=0.1, what=self.name)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (default `stop_timeout`)."""
        process, self.process = self.process, None
        terminate(process, self.stop_timeout if timeout is None else timeout)
        with _lock:
            if self in _running:
                _running.remove(self)

    def kill9(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown at all."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    # --- looking at it -------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def child_pids(self) -> list[int]:
        """Its own children (gunicorn's workers, a prefork Celery worker's pool)."""
        if self.pid is None:
            return []
        out = subprocess.run(  # noqa: S603
            ["pgrep", "-P", str(self.pid)],  # noqa: S607 (procps)
            capture_output=True,
            text=True,
            check=False,
        )
        return [int(p) for p in out.stdout.split()]

    def output(self, tail: int | None = None) -> str:
        """What it wrote (the last `tail` characters); "" before it was started."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-tail:] if tail else text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pid={self.pid} log={self.log_path}>"


def terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM to a child still running, SIGKILL when it has not ended after `timeout` s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def stop_all() -> None:
    """Stop every process started here and not stopped yet, the newest first."""
    with _lock:
        running = list(reversed(_running))
    for process in running:
        try:
            process.stop()
        except Exception as exc:  # stop the others whatever happens to one
            print(f"stopping {process.name}: {exc}", file=sys.stderr, flush=True)


atexit.register(stop_all)  # a run that dies halfway leaves no server behind
