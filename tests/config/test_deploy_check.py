"""A real process started with DEBUG off: `scripts/deploy-check` (CI runs it) passes on a
production environment and fails on each unsafe setting; loading the WSGI application
(what gunicorn does) refuses too; the dj-stripe mirror is off without a mirror key."""

import json
import os
import subprocess
import sys

import pytest

from devstack import ROOT
from stripe_emulator.keys import placeholder_key

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "deploy-test-" + "y" * 50,
    "ALLOWED_HOSTS": "shop.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
    "STRIPE_SECRET_KEY": placeholder_key("sk", "DeployTest"),
    "STRIPE_PUBLISHABLE_KEY": placeholder_key("pk", "DeployTest"),
    "STRIPE_WEBHOOK_SECRETS": "whsec_deploytest",
    "FRONTEND_URL": "https://shop.example.com/",
}
UNSAFE = [
    ("EMAIL_URL=consolemail://", "shop.E008"),
    ("EMAIL_URL=memorymail://", "shop.E008"),
    ("EMAIL_URL=filemail:///tmp/mail", "shop.E008"),
    ("REDIS_URL=", "shop.E009"),
    ("FRONTEND_URL=http://shop.example.com/", "shop.E010"),
    ("FRONTEND_URL=http://127.0.0.1:8000/shop/", "shop.E010"),
]


def run(argv, env_overrides=(), **extra_env):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    env.update(PRODUCTION)
    env.update(extra_env)
    env.update(dict(item.split("=", 1) for item in env_overrides))
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_deploy_check_passes_on_a_production_environment():
    done = subprocess.run(
        ["scripts/deploy-check"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("override", "check_id"), UNSAFE[:1] + UNSAFE[3:5])
def test_deploy_check_fails_on_an_unsafe_setting(override, check_id):
    done = subprocess.run(
        ["scripts/deploy-check", override], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode != 0
    assert check_id in done.stdout + done.stderr


@pytest.mark.parametrize(("override", "check_id"), UNSAFE)
def test_the_wsgi_application_refuses_to_load(override, check_id, tmp_path):
    done = run(
        [sys.executable, "-c", "import config.wsgi"],
        [override],
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr and check_id in done.stderr


def test_the_wsgi_application_loads_when_everything_is_set(tmp_path):
    done = run(
        [sys.executable, "-c", "import config.wsgi; print('loaded')"],
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout


MIRROR_PROBE = (
    "import json; from django.conf import settings as s;"
    "print(json.dumps([s.MIRROR_STRIPE_OBJECTS, s.STRIPE_MIRROR_KEY != '']))"
)


def test_the_mirror_is_off_in_production_without_a_mirror_key(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    without = run(
        [sys.executable, "manage.py", "shell", "-c", MIRROR_PROBE],
        DATABASE_URL=db,
        MIRROR_STRIPE_OBJECTS="true",
    )
    assert json.loads(without.stdout.strip().splitlines()[-1]) == [False, False]
    with_key = run(
        [sys.executable, "manage.py", "shell", "-c", MIRROR_PROBE],
        DATABASE_URL=db,
        MIRROR_STRIPE_OBJECTS="true",
        STRIPE_MIRROR_KEY=placeholder_key("rk", "MirrorDeploy"),
    )
    assert json.loads(with_key.stdout.strip().splitlines()[-1]) == [True, True]


@pytest.mark.parametrize("command", [["worker", "--pool", "solo"], ["beat"]])
def test_a_celery_worker_or_beat_refuses_to_start(command, tmp_path):
    if command == ["beat"]:
        command = [*command, "--schedule", str(tmp_path / "schedule")]
    done = run(
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", *command],
        ["EMAIL_URL=consolemail://"],
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/6",
    )
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr and "shop.E008" in done.stderr
