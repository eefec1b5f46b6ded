"""`@idempotent`: the one place storefront POSTs get Idempotency-Key semantics."""

import functools
from contextlib import nullcontext

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from api.openapi import document
from idempotency import services

REPLAYED_HEADER = "Idempotent-Replayed"

# What the schema shows on every handler wrapped by @idempotent (api/openapi.py): the
# header, required, with its rules; the refusals below; the replay header on the answer.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=services.HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    type={"type": "string", "minLength": 1, "maxLength": services.MAX_LENGTH},
    description=(
        f"Any string of at most {services.MAX_LENGTH} characters, new for each action (a UUID "
        "will do). Keys are per user (another user's equal key is another key) and kept for "
        "a day. Sending the same key with the same request (method, path, JSON body) "
        f"again replays the stored answer with `{REPLAYED_HEADER}: true`, without doing "
        "anything twice. The same key with a different request is refused with 422 "
        "`idempotency_key_reused`; while the first request with the key is still running, "
        "409 `idempotency_key_in_use`. Refusals (4xx other than a stored answer), 429 and "
        "5xx are not stored: retry them with the same key."
    ),
)
REFUSALS = (
    services.IdempotencyKeyRequired,
    services.IdempotencyKeyInvalid,
    services.IdempotencyKeyInUse,
    services.IdempotencyKeyReused,
)
REPLAYED_RESPONSE_HEADER = {
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key; absent on a first answer.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _is_storable(status: int) -> bool:
    # Answers that depend on the moment (rate limits, outages) are not replayed: the client
    # is meant to retry them with the same key and get a real answer.
    return status < 500 and status != 429


def idempotent(handler=None, *, atomic: bool = True):
    """Wrap a DRF handler method (e.g. `post`) of a view that requires authentication.

    With `atomic=True` the view runs in one transaction with the storing of its answer.
    Views that call Stripe use `atomic=False`: they commit their own steps (so that a retry
    finds the attempt it must repeat with the same Stripe idempotency key) and are
    idempotent themselves; the answer is stored right after them.
    """
    if handler is None:
        return functools.partial(idempotent, atomic=atomic)

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = services.validate_key(request.headers.get(services.HEADER))
        fingerprint = services.request_fingerprint(request.method, request.path, request.body)
        claim = services.claim(user=request.user, key=key, fingerprint=fingerprint)
        if claim.replay:
            response = Response(claim.record.response_body, status=claim.record.response_status)
            response[REPLAYED_HEADER] = "true"
            return response
        stored = False
        try:
            with transaction.atomic() if atomic else nullcontext():
                response = handler(view, request, *args, **kwargs)
                if _is_storable(response.status_code):
                    services.complete(claim.record, status=response.status_code, body=response.data)
                    stored = True
                elif atomic:
                    transaction.set_rollback(True)
        finally:
            if not stored:
                services.release(claim.record)
        return response

    return document(
        wrapper,
        refusals=REFUSALS,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        success_headers=REPLAYED_RESPONSE_HEADER,
    )
