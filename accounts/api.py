from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import HashedTokenAuthentication
from api.ratelimits import rate_limited
from api.serializers import StrictSerializer, validated


class CredentialsInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=CredentialsInput,
        responses={
            201: inline_serializer(
                "Registered", {"token": serializers.CharField(), "user": UserOutput()}
            )
        },
    )
    @rate_limited("register")
    @rate_limited("auth")
    def post(self, request):
        user, token = services.register_user(**validated(CredentialsInput, request))
        return Response(
            {"token": token, "user": UserOutput(user).data}, status=status.HTTP_201_CREATED
        )


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=CredentialsInput,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
    )
    @rate_limited("auth")
    def post(self, request):
        credentials = validated(CredentialsInput, request)
        return Response({"token": services.log_in(request._request, **credentials)})


class LogoutApi(APIView):
    """Revokes the token the call was made with; the caller's other tokens stay valid."""

    authentication_classes = [HashedTokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.log_out(user=request.user, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
