"""`make run` as a new user starts it: scripts/run-dev with no environment but PATH, HOME and
PORT (the embedded defaults: SQLite, no Redis, the Stripe emulator), its state in a scratch
VAR_DIR. It runs in a session of its own, stopped as Ctrl-C would stop it."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from devstack import PYTHON, ROOT, free_port, wait_until

# The first run migrates dj-stripe's long history on SQLite.
READY_TIMEOUT = 300


class MakeRun:
    def __init__(self, **extra_env):
        self.var_dir = Path(tempfile.mkdtemp(prefix="make-run-var-"))
        self.port = free_port()
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "PORT": str(self.port),
            "VAR_DIR": str(self.var_dir),
            **extra_env,
        }
        self.log_path = self.var_dir / "make-run.log"
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "MakeRun":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "run-dev")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def serving() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited:\n{self.output()[-3000:]}")
            try:
                return requests.get(self.url + "/api/v1/health/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(serving, timeout=READY_TIMEOUT, interval=0.5, what="make run")
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def shopper_password(self) -> str:
        return re.search(r"^Shopper: \S+ / (\S+)", self.output(), re.MULTILINE).group(1)

    @property
    def emulator_url(self) -> str:
        found = re.search(r"^Stripe: offline emulator on (\S+)", self.output(), re.MULTILINE)
        return found.group(1) if found else ""

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """`manage.py ...` from a second terminal: the same checkout, a clean environment."""
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env={key: value for key, value in self.env.items() if key != "PORT"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        """SIGINT to its session, as Ctrl-C in its terminal; SIGKILL after 20 s."""
        self.interrupt()
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def interrupt(self) -> None:
        """Stop it as Ctrl-C would, and wait until its processes are gone; keep VAR_DIR."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # its children end after it
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
