"""Idempotency-Key handling for the storefront POSTs.

The key is claimed in its own short transaction, so a concurrent request with the same key
sees it at once (409). The view then runs inside one transaction together with storing its
answer, so an answer is stored exactly when the view's effects are committed; a request
that fails or dies leaves nothing behind and the same key may be sent again.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import json_input
from core.errors import Conflict, InvalidInput, ShopError
from idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_LENGTH = 255


class IdempotencyKeyReused(ShopError):
    status = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"
    message = "This request needs an Idempotency-Key header."


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"
    message = f"The Idempotency-Key header is longer than {MAX_LENGTH} characters."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = "A request with this Idempotency-Key is still being processed."


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        parsed = json_input.loads(body or b"{}")
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except json_input.MalformedJSON:
        # Hashed as sent; the view refuses the body itself (400 malformed_json).
        payload = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", payload):
        digest.update(part)
    return digest.hexdigest()


def validate_key(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise IdempotencyKeyRequired()
    if len(raw) > MAX_LENGTH:
        raise IdempotencyKeyInvalid()
    return raw


@dataclass(frozen=True)
class Claim:
    record: IdempotencyKey
    replay: bool


# How often a request whose INSERT lost the race looks again when the winner's row is gone.
CLAIM_TRIES = 3


def claim(*, user, key: str, fingerprint: str) -> Claim:
    """Take the key for this request, or say how an earlier request with it stands.

    Two requests with one key at the same moment: one INSERT wins, the other gets an
    IntegrityError and reads the winner's row. That row can be gone again by then (the
    winner's answer was not stored: a 5xx, a 429, a crash), so the loser tries the INSERT
    again rather than failing; after CLAIM_TRIES it answers 409 like any request that
    finds the key busy.
    """
    now = timezone.now()
    record = None
    for _ in range(CLAIM_TRIES):
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, locked_at=now
                )
            return Claim(record=record, replay=False)
        except IntegrityError:
            record = IdempotencyKey.objects.filter(user=user, key=key).first()
            if record is not None:
                break
    if record is None:
        raise IdempotencyKeyInUse()
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.state == IdempotencyKey.State.COMPLETED:
        return Claim(record=record, replay=True)
    # In progress: either still running, or its request died without cleaning up.
    stale_before = now - settings.IDEMPOTENCY_LOCK_TIMEOUT
    taken_over = IdempotencyKey.objects.filter(
        pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS, locked_at__lt=stale_before
    ).update(locked_at=now)
    if taken_over:
        record.locked_at = now
        return Claim(record=record, replay=False)
    raise IdempotencyKeyInUse()


def complete(record: IdempotencyKey, *, status: int, body) -> None:
    """Store the answer; call inside the transaction that holds the view's effects."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.COMPLETED, response_status=status, response_body=body
    )


def release(record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()


def purge_expired(*, now=None) -> int:
    cutoff = (now or timezone.now()) - settings.IDEMPOTENCY_KEY_RETENTION
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
