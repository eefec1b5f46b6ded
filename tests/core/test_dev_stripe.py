"""var/dev-stripe.env: how `make run` shares its emulator with commands in other terminals.
The environment (and .env, which is in it by then) wins; a stopped emulator is not used."""

import os
import subprocess

from core import dev_stripe
from tests.settings_probe import settings_seen


def write(path, pid, *extra):
    path.write_text(
        "# written by make run\n"
        f"STRIPE_EMULATOR_PID={pid}\n"
        "STRIPE_SECRET_KEY=sk_test_fromthefile\n"
        "STRIPE_PUBLISHABLE_KEY=pk_test_fromthefile\n"
        "STRIPE_WEBHOOK_SECRETS=whsec_fromthefile\n"
        "STRIPE_API_BASE=http://127.0.0.1:40999\n" + "".join(line + "\n" for line in extra)
    )
    return path


def dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_a_live_file_fills_what_the_environment_leaves_unset(tmp_path):
    environ = {"STRIPE_API_BASE": "http://elsewhere"}
    found = dev_stripe.apply(write(tmp_path / "dev-stripe.env", os.getpid()), environ)
    assert found == dev_stripe.DevStripe(used=True, stopped_emulator="")
    assert environ == {
        "STRIPE_SECRET_KEY": "sk_test_fromthefile",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_fromthefile",
        "STRIPE_WEBHOOK_SECRETS": "whsec_fromthefile",
        "STRIPE_API_BASE": "http://elsewhere",  # the environment wins
    }


def test_a_key_in_the_environment_or_env_file_leaves_the_file_unused(tmp_path):
    environ = {"STRIPE_SECRET_KEY": "sk_test_mine"}
    found = dev_stripe.apply(write(tmp_path / "dev-stripe.env", os.getpid()), environ)
    assert not found.used and environ == {"STRIPE_SECRET_KEY": "sk_test_mine"}


def test_a_stopped_or_killed_emulator_is_named_not_used(tmp_path):
    for stale in (
        write(
            tmp_path / "stopped.env", os.getpid(), "STRIPE_EMULATOR_STOPPED=2026-11-30T05:00:00Z"
        ),
        write(tmp_path / "killed.env", dead_pid()),
    ):
        environ: dict = {}
        found = dev_stripe.apply(stale, environ)
        assert found == dev_stripe.DevStripe(used=False, stopped_emulator="http://127.0.0.1:40999")
        assert environ == {}


def test_no_file_no_change(tmp_path):
    environ: dict = {}
    assert dev_stripe.apply(tmp_path / "absent.env", environ).used is False
    assert environ == {}


PROBE = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'key': s.STRIPE_SECRET_KEY, 'base': s.STRIPE_API_BASE, 'stopped': s.STRIPE_EMULATOR_STOPPED}))"
)


def settings_in_a_second_terminal(var_dir, **env) -> dict:
    clean = {"PATH": os.environ["PATH"], "HOME": "/tmp", "VAR_DIR": str(var_dir), **env}
    return settings_seen(PROBE, clean)


def test_the_settings_of_another_process_read_the_file_in_var_dir(tmp_path):
    write(tmp_path / "dev-stripe.env", os.getpid())
    assert settings_in_a_second_terminal(tmp_path) == {
        "key": "sk_test_fromthefile",
        "base": "http://127.0.0.1:40999",
        "stopped": "",
    }
    assert settings_in_a_second_terminal(tmp_path, STRIPE_SECRET_KEY="sk_test_mine") == {
        "key": "sk_test_mine",
        "base": "",
        "stopped": "",
    }
    write(tmp_path / "dev-stripe.env", dead_pid())
    assert settings_in_a_second_terminal(tmp_path) == {
        "key": "",
        "base": "",
        "stopped": "http://127.0.0.1:40999",
    }
