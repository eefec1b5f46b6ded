"""Settings as a fresh process reads them from the environment (django-environ)."""

import os

from tests.settings_probe import settings_seen

PROBE = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'db': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'],"
    "'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'email': s.EMAIL_BACKEND, 'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0),"
    "'ssl_redirect': s.SECURE_SSL_REDIRECT,"
    "'secure_cookies': getattr(s, 'SESSION_COOKIE_SECURE', False)"
    " and getattr(s, 'CSRF_COOKIE_SECURE', False)}))"
)


def settings_with(**env) -> dict:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return settings_seen(PROBE, clean)


def test_no_environment_at_all_gives_the_embedded_defaults():
    found = settings_with()
    assert found == {
        "db": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "broker": "memory://",
        "eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "hsts": 0,
        "ssl_redirect": False,
        "secure_cookies": False,
    }


def test_database_and_redis_urls_and_production_hardening():
    found = settings_with(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        STRIPE_WEBHOOK_SECRETS="whsec_abc",
        DATABASE_URL="postgres://shop@127.0.0.1:5432/shop",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert found["db"] == "django.db.backends.postgresql"
    assert found["cache"] == "core.cache.RedisCache"  # Django's, one client per pool
    assert (found["broker"], found["eager"]) == ("redis://127.0.0.1:6379/3", False)
    assert found["hsts"] >= 31536000
    assert found["ssl_redirect"] is True and found["secure_cookies"] is True

    behind_proxy = settings_with(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        STRIPE_WEBHOOK_SECRETS="whsec_abc",
        SECURE_SSL_REDIRECT="false",
    )
    assert behind_proxy["ssl_redirect"] is False
