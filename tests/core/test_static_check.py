"""shop.W001: with DEBUG off and collectstatic forgotten, `check` and the web process's
start say so, instead of the operator finding an unstyled admin."""

import os
import subprocess
import sys

from django.core.management import call_command

from core.checks import check_static_files_collected
from devstack import ROOT
from stripe_emulator.keys import placeholder_key

MANIFEST_STORAGE = "core.static_storage.ForgivingManifestStaticFilesStorage"


def _production_static(settings, static_root):
    settings.DEBUG = False
    settings.STATIC_ROOT = str(static_root)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": MANIFEST_STORAGE},
    }


def test_with_debug_off_a_missing_manifest_is_a_warning_until_collectstatic(settings, tmp_path):
    _production_static(settings, tmp_path / "static")
    found = check_static_files_collected()
    assert [message.id for message in found] == ["shop.W001"]
    assert "collectstatic" in found[0].hint

    call_command("collectstatic", "--noinput", verbosity=0)

    assert (tmp_path / "static" / "staticfiles.json").is_file()
    assert check_static_files_collected() == []


def test_in_development_nothing_needs_collecting(settings, tmp_path):
    settings.DEBUG = True
    settings.STATIC_ROOT = str(tmp_path / "never-collected")
    assert check_static_files_collected() == []


def test_the_web_process_logs_the_warning_at_start(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "false",
        "SECRET_KEY": "static-check-" + "z" * 50,
        "ALLOWED_HOSTS": "shop.example.com",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
        "STRIPE_SECRET_KEY": placeholder_key("sk", "StaticCheck"),
        "STRIPE_PUBLISHABLE_KEY": placeholder_key("pk", "StaticCheck"),
        "STRIPE_WEBHOOK_SECRETS": "whsec_staticcheck",
        "FRONTEND_URL": "https://shop.example.com/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "never-collected"),
    }
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi; print('loaded')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # a warning: the shop still starts
    assert "loaded" in done.stdout
    assert "shop.W001" in done.stderr
    assert "collectstatic" in done.stderr


def test_with_a_manifest_whitenoises_start_up_probes_log_no_warning(settings, tmp_path, caplog):
    # whitenoise asks the storage for names derived from every collected file (e.g.
    # "swagger-ui-bundle.map" from "swagger-ui-bundle.js.map"); they are no missing files.
    from django.contrib.staticfiles.storage import staticfiles_storage

    _production_static(settings, tmp_path / "static")
    call_command("collectstatic", "--noinput", verbosity=0)
    with caplog.at_level("DEBUG", logger="core.static_storage"):
        url = staticfiles_storage.url(
            "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.map"
        )
    assert url.endswith("/swagger-ui-bundle.map")  # not hashed: whitenoise caches it briefly
    assert [r for r in caplog.records if r.levelname == "WARNING"] == []
    assert "swagger-ui-bundle.map" in caplog.text  # still there for whoever looks


def test_without_a_manifest_a_page_linking_a_static_file_logs_a_warning(settings, tmp_path, caplog):
    from django.contrib.staticfiles.storage import staticfiles_storage

    _production_static(settings, tmp_path / "never-collected")
    with caplog.at_level("WARNING", logger="core.static_storage"):
        url = staticfiles_storage.url("admin/css/base.css")
    assert url.endswith("/admin/css/base.css")
    assert "run collectstatic" in caplog.text
