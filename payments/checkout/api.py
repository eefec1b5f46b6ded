from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.openapi import EMPTY_BODY, refuses
from api.ratelimits import rate_limited
from api.serializers import validated
from catalog.amounts import AmountTooLarge, InvalidAmount
from core.client_address import client_address
from core.errors import NotFound
from idempotency.api import idempotent
from orders.selectors import orders_of
from orders.serializers import EmptyInput, PaymentSummaryOutput
from payments import errors, selectors
from payments.checkout import services

# What starting a payment can refuse, besides the plumbing's (api/openapi.py).
PAYMENT_REFUSALS = (
    InvalidAmount("Amounts in JPY are whole yen."),
    AmountTooLarge,
    errors.CardDeclined,
    errors.OrderNotPayable,
    errors.ReservationExpired,
    errors.PaymentInProgress,
    errors.TooManyFailedPayments,
    errors.StripeRefused,
    errors.StripeUnavailable,
    errors.StripeUnavailable(code="stripe_rate_limited"),
    errors.PaymentsDisabled,
)
STARTING = (
    "Locks the order, records a payment attempt, then asks Stripe with no lock held; "
    "the order's stock is then held for 30 minutes. Only an order waiting for payment "
    "whose reservation has not expired can be paid (409 otherwise); repeated declines "
    "block new attempts for a while (429 `too_many_failed_payments`); Stripe refusing or "
    "unreachable is 502 / 503 and leaves the order payable. Takes `{}` or no body. Needs "
    "an `Idempotency-Key`."
)

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


@extend_schema(tags=["Payments"])
class CheckoutSessionApi(APIView):
    @extend_schema(
        summary="Pay on Stripe Checkout",
        description="Creates a Stripe Checkout Session for the order and returns its `url`: "
        "send the shopper there; they come back to the shop's order page. " + STARTING,
        request=EMPTY_BODY,
        responses={201: CheckoutSessionOutput},
    )
    @refuses(*PAYMENT_REFUSALS)
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


@extend_schema(tags=["Payments"])
class PaymentIntentApi(APIView):
    @extend_schema(
        summary="Pay by card in the page",
        description="Creates (or hands out again while usable) a Stripe PaymentIntent for "
        "the order's total and returns what Stripe.js needs to confirm it: "
        "`client_secret` and `publishable_key`. The webhook marks the order paid. " + STARTING,
        request=EMPTY_BODY,
        responses={201: PaymentIntentOutput},
    )
    @refuses(*PAYMENT_REFUSALS)
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


@extend_schema(tags=["Payments"])
class OrderPaymentApi(APIView):
    @extend_schema(
        summary="Read the order's payment",
        description="The order's latest payment: status, amount, refunded amount and, for "
        "a failed one, Stripe's message. 404 when the order is not the shopper's or has "
        "no payment yet.",
        responses=PaymentSummaryOutput,
    )
    def get(self, request, pk):
        order = orders_of(request.user).filter(pk=pk).first()
        summary = selectors.payment_summary(order) if order is not None else None
        if summary is None:
            raise NotFound("This order has no payment yet." if order else "Not found.")
        return Response(PaymentSummaryOutput(summary).data)
