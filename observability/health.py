"""Liveness and readiness. Readiness answers 503 when any dependency is missing.

What anyone may see is the status and, per check, `ok` or `error`: enough for a load
balancer or an orchestrator. The detail (how each dependency is reached: "emulator",
"eager", the class of an error) tells an attacker how the shop is run, so it is added only
for a caller holding `METRICS_TOKEN` (`Authorization: Bearer ...`, as Prometheus does) or
a signed-in staff member.
"""

import hmac
import logging
from collections.abc import Callable

from celery import current_app  # the project's Celery app (config.celery)
from django.conf import settings
from django.contrib.auth import get_user
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class NotReady(RuntimeError):
    """A check's own finding; its message is ours, safe to show a detail reader."""


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return ""


def _cache() -> str:
    cache.set("health:probe", "1", timeout=10)
    if cache.get("health:probe") != "1":
        raise NotReady("cache did not return the probe")
    return ""


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager: tasks run in-process"
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return ""


# name → check: returns a detail ("" for none) or raises. Apps add theirs (register_check).
CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


def register_check(name: str, check: Callable[[], str]) -> None:
    """Make readiness depend on `check` too (the owning app calls this in AppConfig.ready)."""
    CHECKS[name] = check


def may_see_details(request) -> bool:
    """The metrics scraper's bearer token, or a staff member signed in to the admin."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    offered = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    user = get_user(request._request)  # the admin session's (this view authenticates no one)
    return bool(user.is_authenticated and user.is_staff)


Liveness = inline_serializer("Liveness", {"status": serializers.CharField()})
Readiness = inline_serializer(
    "Readiness",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(
            child=inline_serializer(
                "ReadinessCheck",
                {
                    "status": serializers.ChoiceField(choices=["ok", "error"]),
                    "detail": serializers.CharField(required=False),
                },
            )
        ),
    },
)


@extend_schema(tags=["Health"])
class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Liveness",
        description="200 while the process serves requests; touches no dependency.",
        responses={200: Liveness},
    )
    def get(self, request):
        return Response({"status": "ok"})


@extend_schema(tags=["Health"])
class ReadinessApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Readiness",
        description="Each dependency (database, cache, broker, Stripe) as `ok` or `error`; "
        "503 with the same body when any fails. `detail` only for the `METRICS_TOKEN` "
        "bearer or a signed-in staff member.",
        responses={200: Readiness, 503: Readiness},
    )
    def get(self, request):
        details = may_see_details(request)
        results, ready = {}, True
        for name, check in CHECKS.items():
            try:
                detail = check()
                results[name] = {"status": "ok"}
            except Exception as exc:  # a readiness probe reports, it does not raise
                ready = False
                # Our own finding, or the class name only: a driver's message can carry a
                # DSN with a password.
                detail = str(exc) if isinstance(exc, NotReady) else type(exc).__name__
                results[name] = {"status": "error"}
                logger.warning("readiness check %s failed: %s", name, detail)
            if details and detail:
                results[name]["detail"] = detail
        return Response(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status=200 if ready else 503,
        )
