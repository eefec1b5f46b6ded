from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import HashedTokenAuthentication
from accounts.login_throttle import TooManyFailedLogins
from api.openapi import refuses
from api.ratelimits import rate_limited
from api.serializers import StrictSerializer, validated
from core.errors import InvalidInput

CREDENTIALS_EXAMPLE = OpenApiExample(
    "Credentials",
    value={"email": "shopper@example.com", "password": "correct horse battery 42"},
    request_only=True,
)


class CredentialsInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


@extend_schema(tags=["Accounts"])
class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Create an account",
        description="Creates a shopper account and returns its first API token (shown once). "
        "A taken e-mail address or a weak password is a 400 with `fields`.",
        request=CredentialsInput,
        responses={
            201: inline_serializer(
                "Registered", {"token": serializers.CharField(), "user": UserOutput()}
            )
        },
        examples=[CREDENTIALS_EXAMPLE],
    )
    @rate_limited("register")
    @rate_limited("auth")
    def post(self, request):
        user, token = services.register_user(**validated(CredentialsInput, request))
        return Response(
            {"token": token, "user": UserOutput(user).data}, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["Accounts"])
class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Get an API token",
        description="Exchanges e-mail and password for a new token (shown once; it expires "
        "after `AUTH_TOKEN_TTL_HOURS`). Send it as `Authorization: Token <key>`. Repeated "
        "failures for an account or a client are refused with 429 for a while.",
        request=CredentialsInput,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        examples=[CREDENTIALS_EXAMPLE],
    )
    @refuses(
        InvalidInput("E-mail address or password is wrong.", code="invalid_credentials"),
        TooManyFailedLogins,
    )
    @rate_limited("auth")
    def post(self, request):
        credentials = validated(CredentialsInput, request)
        return Response({"token": services.log_in(request._request, **credentials)})


@extend_schema(tags=["Accounts"])
class LogoutApi(APIView):
    """Revokes the token the call was made with; the caller's other tokens stay valid."""

    authentication_classes = [HashedTokenAuthentication]

    @extend_schema(
        summary="Revoke this token",
        description="Revokes the token the call was made with; the caller's other tokens "
        "stay valid. Takes no body.",
        request=None,
        responses={204: None},
    )
    def post(self, request):
        services.log_out(user=request.user, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
