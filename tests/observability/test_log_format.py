"""Readable lines in development, JSON lines in production (LOG_FORMAT), and each request
logged once: runserver's own access line is dropped, the request log's line stays."""

import json
import logging
import os
import subprocess
import sys

import pytest

from devstack import ROOT

CODE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('payments.test').warning('stock low for %s', 'MUG-ENAMEL')"
)


def logged_with(**env) -> list[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if "stock low" in line]


def test_development_lines_are_readable_text_and_production_lines_json():
    [development] = logged_with()  # no environment: DEBUG on
    assert "[warning" in development and "stock low for MUG-ENAMEL" in development
    assert "logger=payments.test" in development or "[payments.test]" in development
    with pytest.raises(json.JSONDecodeError):
        json.loads(development)

    [production] = logged_with(
        DEBUG="false", SECRET_KEY="x" * 50, STRIPE_WEBHOOK_SECRETS="whsec_abc"
    )
    assert json.loads(production)["event"] == "stock low for MUG-ENAMEL"

    [chosen] = logged_with(LOG_FORMAT="json")
    assert json.loads(chosen)["level"] == "warning"


def test_an_unknown_format_stops_start_up():
    clean = {"PATH": os.environ["PATH"], "HOME": "/tmp", "LOG_FORMAT": "xml"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT is console or json, not 'xml'" in done.stderr


def test_runserver_access_lines_are_dropped_its_other_lines_kept(log_output):
    server = logging.getLogger("django.server")
    server.info('"%s" %s %s', "GET /api/v1/products/ HTTP/1.1", "200", "512")
    server.warning('"%s" %s %s', "POST /api/v1/orders/ HTTP/1.1", "409", "140")
    server.error("You're accessing the development server over HTTPS, but it only supports HTTP.")

    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "You're accessing the development server over HTTPS, but it only supports HTTP."
    ]
