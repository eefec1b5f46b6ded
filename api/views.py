"""Django's error views (handler400 to handler500, the CSRF failure view): the contract's
JSON body under /api/, Django's own pages elsewhere."""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

from api.errors import database_unreachable, error_body, error_response
from core.errors import ServiceUnavailable


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                error_body("payload_too_large", "The request body is too large."), status=413
            )
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", "You are not allowed to do this."), status=403
        )
    return permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        # Django calls this while handling the exception (sys.exc_info() is set), e.g. when
        # the database is down before a view runs (authentication, sessions, the webhook).
        if database_unreachable(sys.exc_info()[1]):
            return error_response(ServiceUnavailable())
        return JsonResponse(error_body("server_error", "Internal server error."), status=500)
    return server_error(request)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return JsonResponse(
            error_body("csrf_failed", "CSRF verification failed. Reload the page."), status=403
        )
    from django.views.csrf import csrf_failure as default_csrf_failure

    return default_csrf_failure(request, reason)
