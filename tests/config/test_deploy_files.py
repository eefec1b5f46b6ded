"""docs/deploy.md is what runs: its marked steps exist, and the systemd units, the Dockerfile
and compose.yaml start the same commands the guide gives (no drift between them). The image
itself is built only where docker is (not in this suite): the file is checked as text."""

import re
import shlex

import yaml
from django.conf import settings

from devstack import ROOT
from devstack.production import command_line, guide_steps, relocate

STEPS = guide_steps()
UNITS = {"web": "shop-web", "worker": "shop-worker", "beat": "shop-beat"}
APP = "/srv/shop/app"


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "systemd" / f"{name}.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def _guide_argv(step: str) -> list[str]:
    return shlex.split(command_line(STEPS[step][1]))


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def test_the_guide_marks_every_step_ci_runs_in_order():
    assert list(STEPS) == [
        "install",
        "sql-roles",
        "collectstatic",
        "migrate",
        "sql-grants",
        "switch",
        "web",
        "worker",
        "beat",
    ]
    assert {language for language, _ in STEPS.values()} == {"sh", "sql"}
    assert "--require-hashes -r requirements.lock" in STEPS["install"][1]
    assert "collectstatic --noinput" in STEPS["collectstatic"][1]
    assert "check --deploy --fail-level WARNING" in STEPS["collectstatic"][1]
    assert "/etc/shop/migrate.env" in STEPS["migrate"][1]  # the owner's role migrates
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditentry" in STEPS["sql-grants"][1]


def test_each_systemd_unit_runs_the_guides_command_hardened():
    for step, unit in UNITS.items():
        values = _unit(unit)
        assert values["ExecStart"] == [command_line(STEPS[step][1])], unit
        assert values["WorkingDirectory"] == [APP]
        assert values["EnvironmentFile"] == ["/etc/shop/shop.env"]
        assert values["User"] == ["shop"] and values["Group"] == ["shop"]
        assert values["Restart"] == ["always"]
        assert values["NoNewPrivileges"] == ["yes"]
        assert values["ProtectSystem"] == ["strict"]
        assert values["CapabilityBoundingSet"] == [""]
    # beat's schedule lives where its unit may write (StateDirectory=shop -> /var/lib/shop).
    assert _unit("shop-beat")["StateDirectory"] == ["shop"]
    assert "/var/lib/shop/" in STEPS["beat"][1]
    # The socket's folder: created for the web unit, the default bind of gunicorn's config.
    assert _unit("shop-web")["RuntimeDirectory"] == ["shop"]
    gunicorn_conf = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert '"unix:/run/shop/gunicorn.sock"' in gunicorn_conf
    assert "unix:/run/shop/gunicorn.sock" in (ROOT / "deploy/nginx/shop.conf").read_text()


def test_compose_and_the_image_run_the_guides_commands():
    services = _compose()
    for step in ("web", "worker", "beat"):
        assert services[step]["command"] == _guide_argv(step), step
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    assert yaml.safe_load(cmd) == _guide_argv("web")
    # The guide's migrate runs from the release folder; in the image that is /srv/shop/app.
    migrate = STEPS["migrate"][1].splitlines()[-1].replace(".venv/bin/", f"{APP}/.venv/bin/")
    assert services["migrate"]["command"] == shlex.split(migrate)
    assert services["migrate"]["restart"] == "no"
    for step in ("web", "worker", "beat"):
        needs = services[step]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, step
    assert services["beat"]["deploy"]["replicas"] == 1  # one beat, never more


def test_compose_has_healthchecks_and_reads_env():
    services = _compose()
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["env_file"] == ".env", name
        assert services[name]["environment"]["DEBUG"] == "false", name


def test_the_image_is_built_from_the_lock_and_runs_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2  # build stage, then a slim runtime
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    assert f"WORKDIR {APP}" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "var"} <= set(ignored)


def test_nginx_passes_the_client_and_the_bodies_the_shop_accepts():
    conf = (ROOT / "deploy" / "nginx" / "shop.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "ssl_certificate " in conf and "return 301 https://" in conf
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    limit = int(size.group(1)) * 1024 * 1024
    assert limit >= settings.WEBHOOK_MAX_BODY_BYTES
    assert limit >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_relocating_moves_only_the_shops_paths(tmp_path):
    text = "cd /srv/shop/app && . /etc/shop/shop.env;"
    text += " ls /var/lib/shop/x /srv/shopping /tmp/srv/shop"
    assert relocate(text, tmp_path) == (
        f"cd {tmp_path}/srv/shop/app && . {tmp_path}/etc/shop/shop.env;"
        f" ls {tmp_path}/var/lib/shop/x /srv/shopping /tmp/srv/shop"
    )
