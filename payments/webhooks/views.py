"""Stripe's webhook endpoint: verify, store in the inbox, queue, answer 200. Nothing slow."""

import functools
import ipaddress
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from api.errors import error_body, error_response
from api.ratelimits import enforce
from audit import rejections
from audit.services import record
from core.client_address import client_address, parse_networks
from core.errors import ShopError
from observability import metrics
from payments.webhooks import inbox, processing, verification

logger = logging.getLogger(__name__)

# What JsonResponse({"received": True}) would encode for every delivery, encoded once.
RECEIVED = b'{"received": true}'


@functools.lru_cache(maxsize=8)
def _allowed_networks(values: tuple[str, ...]):
    # Parsed once per value; a malformed one already stopped start-up (config.settings).
    return parse_networks(values, setting="WEBHOOK_ALLOWED_IPS")


def _sender_allowed(request) -> bool:
    """Whether the client (behind TRUSTED_PROXIES: the real sender) may deliver events."""
    if not settings.WEBHOOK_ALLOWED_IPS:
        return True
    try:
        ip = ipaddress.ip_address(client_address(request))
    except ValueError:  # "unknown": no address to allow
        return False
    return any(ip in net for net in _allowed_networks(tuple(settings.WEBHOOK_ALLOWED_IPS)))


def _over_limit(request) -> JsonResponse | None:
    """429 once one address has sent too many refused or repeated deliveries.

    Only those count: without the signing secret nobody can send a new event, and throttling
    Stripe's real events would only delay them. A refusal costs an audit row and a log line,
    a repeat a lookup, so that is what a flood costs us and what the limit guards.
    """
    try:
        enforce(request, "webhook")
    except ShopError as exc:
        return error_response(exc)
    return None


def _reject(request, status: int, code: str, message: str, signed: bool = False) -> JsonResponse:
    """Refuse a delivery: counted one by one, audited per client and window (a forged
    flood is two rows, audit.rejections), except a correctly signed one (Stripe sent it and
    loses it until its retries end): an error line and its own row, which alerts staff."""
    limited = _over_limit(request)
    if limited is not None:
        return limited
    metrics.count("webhook_deliveries_rejected", code=code)
    if signed:
        logger.error("webhook rejected a signed delivery: %s (%s)", code, message)
        record(
            "webhook.rejected",
            actor_label="stripe-webhook",
            outcome="refused",
            details={"code": code, "count": 1, "signed": True, "reason": message},
        )
        return JsonResponse(error_body(code, message), status=status)
    logger.warning(
        "webhook rejected: %s (from %s, %s bytes)",
        code,
        client_address(request),
        request.META.get("CONTENT_LENGTH"),
    )
    rejections.record_rejection(
        "webhook.rejected",
        code=code,
        address=client_address(request),
        actor_label="stripe-webhook",
    )
    return JsonResponse(error_body(code, message), status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if not _sender_allowed(request):
        return _reject(request, 403, "forbidden_sender", "This address may not send events.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _reject(request, 413, "payload_too_large", "The event body is too large.")
    payload = request.read(limit + 1)
    if len(payload) > limit:
        return _reject(request, 413, "payload_too_large", "The event body is too large.")
    try:
        verification.verify_signature(
            payload, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRETS
        )
        event = verification.parse_event(payload)
    except verification.RejectedEvent as exc:
        return _reject(request, 400, exc.code, exc.message, signed=exc.signed)

    # The verified body is the text the signature covers: decoded strictly, it is UTF-8.
    event_pk, created = inbox.store_event(event, nul_escaped=True, body=payload.decode())
    if created and inbox.is_unhandled(event["type"]):
        # Stored ignored by the INSERT itself: counted, nothing queued (inbox.store_event).
        transaction.on_commit(lambda: processing.count_stored_ignored(event["type"]))
    elif created:
        transaction.on_commit(lambda: processing.hand_over(event_pk, event["type"]))
    else:
        metrics.count("webhook_events_duplicate", type=event["type"])
        limited = _over_limit(request)
        if limited is not None:
            return limited
    return HttpResponse(RECEIVED, content_type="application/json")
