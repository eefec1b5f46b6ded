"""The admin login page, sharing the failed-login counters of every way in.

Failures are counted per account and per client address (accounts.login_throttle, fed by
Django's `user_login_failed` signal), the same counters `POST auth/token/` uses: five
wrong passwords through either lock the account on both. Only failed logins count, so
staff who log in normally are never slowed down, and a successful login does not reset an
attacker's count. Past the limit the login page is shown again with a clear message and
status 429, and the credentials are not even checked (a correct password guessed during
the lockout gets no confirmation).
"""

import logging

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts import login_throttle
from core.client_address import client_address

logger = logging.getLogger(__name__)


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
        retry_after = login_throttle.seconds_refused(request, request.POST.get("username", ""))
        if retry_after is not None:
            logger.warning("admin login throttled (from %s)", client_address(request))
            return _throttled_page(request, retry_after)
    # A failure is counted by the user_login_failed signal the form's authenticate() sends.
    return admin.site.login(request, extra_context)
