"""Liveness and readiness. Readiness answers 503 when any dependency is missing."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _cache() -> str:
    cache.set("health:probe", "1", timeout=10)
    if cache.get("health:probe") != "1":
        raise RuntimeError("cache did not return the probe")
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok (eager: tasks run in-process)"
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _stripe() -> str:
    if not settings.STRIPE_SECRET_KEY:
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    if not settings.STRIPE_WEBHOOK_SECRETS:
        raise RuntimeError("STRIPE_WEBHOOK_SECRETS is not set")
    return "ok (emulator)" if settings.STRIPE_API_BASE else "ok"


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "stripe": _stripe}


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request):
        results, ready = {}, True
        for name, check in CHECKS.items():
            try:
                results[name] = {"status": check()}
            except Exception as exc:  # a readiness probe reports, it does not raise
                ready = False
                # The class name only: a driver's message can carry a DSN with a password.
                results[name] = {"status": "error", "error": type(exc).__name__}
                logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return Response(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status=200 if ready else 503,
        )
