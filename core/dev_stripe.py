"""The file `make run` shares its Stripe emulator through: var/dev-stripe.env.

scripts/run-dev starts the offline emulator on a random port with keys of its own, and
writes them (STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRETS,
STRIPE_API_BASE) to this file, mode 0600, together with the emulator's process id. A
command in a second terminal (`manage.py reconcile`, `shell`, ...) reads it through the
settings and reaches the same emulator. When make run stops, the file is marked stopped.

Precedence: the environment, then .env, then this file. The file is used only when
STRIPE_SECRET_KEY is set in neither, and only while the emulator that wrote it still runs;
otherwise the settings remember the address it had, so a Stripe call can say "the emulator
at ... is not running" instead of failing on a closed port.
"""

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "dev-stripe.env"
VARIABLES = (
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRETS",
    "STRIPE_API_BASE",
)
PID = "STRIPE_EMULATOR_PID"
STOPPED = "STRIPE_EMULATOR_STOPPED"


@dataclass(frozen=True)
class DevStripe:
    used: bool  # its values filled the environment
    stopped_emulator: str  # the address of make run's emulator that no longer runs, or ""


def parse(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True  # it runs, as another user
    except (ValueError, OSError):
        return False
    return True


def apply(path: Path, environ: MutableMapping[str, str]) -> DevStripe:
    """Fill the unset Stripe variables of `environ` from the file, when it is live."""
    if environ.get("STRIPE_SECRET_KEY") or not path.is_file():
        return DevStripe(used=False, stopped_emulator="")
    try:
        values = parse(path.read_text())
    except OSError:
        return DevStripe(used=False, stopped_emulator="")
    if STOPPED in values or not _alive(values.get(PID, "")):
        return DevStripe(used=False, stopped_emulator=values.get("STRIPE_API_BASE", "?"))
    for name in VARIABLES:
        if values.get(name) and not environ.get(name):
            environ[name] = values[name]
    return DevStripe(used=True, stopped_emulator="")
