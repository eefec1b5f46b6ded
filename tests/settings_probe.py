"""Settings as a fresh process sees them: `manage.py shell` runs a probe that prints JSON."""

import json
import subprocess
import sys

from devstack import ROOT


def settings_seen(probe: str, env: dict) -> dict:
    """Run `probe` (Python printing one JSON line) with exactly `env`; return what it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
