"""With DEBUG off, gunicorn serves the admin's and the shop's static files itself
(whitenoise, from collectstatic's manifest): the back office is styled in production."""

import os
import subprocess
import sys
import textwrap

from devstack import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "static-files-test-" + "x" * 40,
    "ALLOWED_HOSTS": "shop.example.com",
    "SECURE_SSL_REDIRECT": "false",
    "FRONTEND_URL": "https://shop.example.com/",
}


def test_with_debug_off_collected_static_files_are_served(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        **PRODUCTION,
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    probe = textwrap.dedent(
        """
        import django
        django.setup()
        from django.conf import settings
        from django.test import Client
        from django.templatetags.static import static
        client = Client(HTTP_HOST="shop.example.com")
        plain = client.get("/static/admin/css/base.css")
        hashed_url = static("admin/css/base.css")
        hashed = client.get(hashed_url)
        missing = client.get("/static/admin/css/no-such-file.css")
        body = b"".join(hashed.streaming_content).decode(errors="replace")
        print(settings.DEBUG, plain.status_code, hashed_url, hashed.status_code,
              hashed.get("Cache-Control", ""), missing.status_code, "{" in body, sep="|")
        """
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split("|")
    )
    debug, plain, hashed_url, hashed, cache_control, missing, has_css = out
    assert debug == "False"
    assert plain == "200"
    assert hashed_url != "/static/admin/css/base.css"  # the manifest's hashed name
    assert hashed == "200"
    assert "max-age=315360000" in cache_control  # hashed names are cached for good
    assert missing == "404"
    assert has_css == "True"


def test_with_debug_off_and_no_collectstatic_pages_still_render(tmp_path):
    # A forgotten collectstatic costs the styles, never the admin itself (no 500).
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        **PRODUCTION,
        "STATIC_ROOT": str(tmp_path / "never-collected"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    probe = textwrap.dedent(
        """
        import django
        django.setup()
        from django.test import Client
        page = Client(HTTP_HOST="shop.example.com", raise_request_exception=False)
        print(page.get("/admin/login/").status_code)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip().splitlines()[-1] == "200", out.stderr[-2000:]
