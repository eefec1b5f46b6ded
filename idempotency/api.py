"""`@idempotent`: the one place storefront POSTs get Idempotency-Key semantics."""

import functools
from contextlib import nullcontext

from django.db import transaction
from rest_framework.response import Response

from idempotency import services

REPLAYED_HEADER = "Idempotent-Replayed"


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

    return wrapper
