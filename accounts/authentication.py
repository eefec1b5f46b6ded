"""`Authorization: Token <key>` against hashed, expiring tokens (accounts.tokens).

A subclass of DRF's TokenAuthentication, so drf-spectacular documents it with its own
token scheme (it matches subclasses) and the 401 answers keep `WWW-Authenticate: Token`.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts import tokens
from accounts.models import AuthToken


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and 401 answers; the lookup is by digest and checks expiry."""

    keyword = "Token"
    model = AuthToken

    def authenticate_credentials(self, key):
        token = AuthToken.objects.select_related("user").filter(digest=tokens.digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expired:
            raise exceptions.AuthenticationFailed(_("Token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        tokens.note_use(token)
        return token.user, token
