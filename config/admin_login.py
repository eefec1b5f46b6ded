"""The admin login page, throttled per IP and per username (django-ratelimit counters).

Only failed logins count, so staff who log in normally are never slowed down, and a
successful login does not reset an attacker's count. Past the limit the login page is shown
again with a clear message and status 429, and the credentials are not even checked (a
correct password guessed during the lockout gets no confirmation).
"""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def _username(group, request) -> str:
    return request.POST.get("username", "").strip().lower()[:254]


def _usages(request, *, increment: bool) -> list[dict]:
    limits = settings.RATE_LIMITS["admin_login"]
    keys = {"ip": "ip", "username": _username}
    usages = []
    for name, rate in limits.items():
        try:
            usage = get_usage(
                request, group=f"admin_login:{name}", key=keys[name], rate=rate, increment=increment
            )
        except Exception as exc:  # cache down: fail open, as every other rate limit does
            logger.warning("admin login throttle not checked (%s)", type(exc).__name__)
            return []
        if usage is not None:
            usages.append(usage)
    return usages


def _throttled_page(request, retry_after: int) -> TemplateResponse:
    minutes = max(1, round(retry_after / 60))
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(request),
        "username": request.user.get_username(),
        REDIRECT_FIELD_NAME: request.GET.get(REDIRECT_FIELD_NAME, ""),
        "throttled_message": (
            f"Too many failed login attempts. Try again in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}."
        ),
    }
    response = TemplateResponse(request, "admin/login_throttled.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@never_cache
@csrf_protect
def admin_login(request, extra_context=None):
    if request.method == "POST":
        blocked = [u for u in _usages(request, increment=False) if u["count"] >= u["limit"]]
        if blocked:
            retry_after = max(1, max(u["time_left"] for u in blocked))
            logger.warning("admin login throttled (from %s)", request.META.get("REMOTE_ADDR"))
            return _throttled_page(request, retry_after)
    response = admin.site.login(request, extra_context)
    failed = request.method == "POST" and response.status_code != 302
    if failed:
        _usages(request, increment=True)
    return response
