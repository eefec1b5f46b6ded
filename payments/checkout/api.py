from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.ratelimits import rate_limited
from api.serializers import validated
from core.client_address import client_address
from core.errors import NotFound
from idempotency.api import idempotent
from orders.selectors import orders_of
from orders.serializers import EmptyInput, PaymentSummaryOutput
from payments import selectors
from payments.checkout import services

CheckoutSessionOutput = inline_serializer(
    "CheckoutSession",
    {"checkout_session_id": serializers.CharField(), "url": serializers.URLField()},
)
PaymentIntentOutput = inline_serializer(
    "PaymentIntent",
    {
        "payment_intent_id": serializers.CharField(),
        "client_secret": serializers.CharField(),
        "publishable_key": serializers.CharField(),
        "amount": serializers.IntegerField(),
        "currency": serializers.CharField(),
    },
)


class CheckoutSessionApi(APIView):
    @extend_schema(request=EmptyInput, responses={201: CheckoutSessionOutput})
    @rate_limited("payment_create")
    @idempotent(atomic=False)
    def post(self, request, pk):
        validated(EmptyInput, request)
        started = services.start_checkout_session(
            user=request.user, order_id=pk, client_address=client_address(request)
        )
        return Response(
            {"checkout_session_id": started.attempt.stripe_checkout_session_id, "url": started.url},
            status=status.HTTP_201_CREATED,
        )


class PaymentIntentApi(APIView):
    @extend_schema(request=EmptyInput, responses={201: PaymentIntentOutput})
    @rate_limited("payment_create")
    @idempotent(atomic=False)
    def post(self, request, pk):
        validated(EmptyInput, request)
        started = services.start_payment_intent(
            user=request.user, order_id=pk, client_address=client_address(request)
        )
        return Response(
            {
                "payment_intent_id": started.attempt.stripe_payment_intent_id,
                "client_secret": started.client_secret,
                "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
                "amount": started.attempt.amount,
                "currency": started.attempt.currency,
            },
            status=status.HTTP_201_CREATED,
        )


class OrderPaymentApi(APIView):
    @extend_schema(responses=PaymentSummaryOutput)
    def get(self, request, pk):
        order = orders_of(request.user).filter(pk=pk).first()
        summary = selectors.payment_summary(order) if order is not None else None
        if summary is None:
            raise NotFound("This order has no payment yet." if order else "Not found.")
        return Response(PaymentSummaryOutput(summary).data)
