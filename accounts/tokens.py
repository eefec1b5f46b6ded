"""API tokens: issued as random keys, stored as digests, expiring, revocable.

A key is 40 hexadecimal characters (160 random bits), the length clients already expect.
Only its SHA-256 digest is stored (accounts.models.AuthToken); the key is returned once,
to whoever logged in, and never written anywhere else.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import AuthToken, User

# Writing "last used" on every request would turn each read into a write; this often is
# enough to tell a token in use from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user: User) -> str:
    """A new token for `user`; returns the clear key (shown once, never stored)."""
    key = secrets.token_hex(20)
    now = timezone.now()
    # Expired tokens are refused anyway; dropping the user's old ones here keeps the table
    # at live tokens without a periodic job.
    AuthToken.objects.filter(user=user, expires_at__lte=now).delete()
    AuthToken.objects.create(
        user=user,
        digest=digest(key),
        created_at=now,
        expires_at=now + timedelta(hours=settings.AUTH_TOKEN_TTL_HOURS),
    )
    return key


def revoke_token(token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


def revoke_all_tokens(user_id: int) -> int:
    deleted, _ = AuthToken.objects.filter(user_id=user_id).delete()
    return deleted


def note_use(token: AuthToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        AuthToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
