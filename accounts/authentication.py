"""`Authorization: Token <key>` against hashed, expiring tokens (accounts.tokens).

A subclass of DRF's TokenAuthentication, so the 401 answers keep `WWW-Authenticate: Token`.
The schema documents it as `tokenAuth` (TokenScheme below): a header whose whole value,
`Token <key>`, is what Swagger UI's Authorize dialog takes.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
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


class TokenScheme(OpenApiAuthenticationExtension):
    """drf-spectacular's own token scheme, with the instructions a person needs."""

    target_class = HashedTokenAuthentication
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{self.target.keyword} <key>`: the word `{self.target.keyword}`, a "
            "space and the key from `POST /api/v1/auth/token/` or `auth/register/`.",
        }
