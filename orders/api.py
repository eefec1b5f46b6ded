from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.openapi import EMPTY_BODY, Refusal, refuses
from api.ratelimits import rate_limited
from api.serializers import validated
from catalog.amounts import AmountTooLarge, InvalidAmount
from catalog.services import InsufficientStock
from core.errors import Conflict, InvalidInput, ServiceUnavailable
from idempotency.api import idempotent
from orders import selectors, services
from orders.serializers import (
    CartLineCreateInput,
    CartLineUpdateInput,
    CartOutput,
    EmptyInput,
    OrderCreateInput,
    OrderOutput,
)

PRODUCT_UNAVAILABLE = InvalidInput(
    "This product is not available.",
    code="product_unavailable",
    fields={"product_id": ["No active product with this id."]},
)
CART_FULL = InvalidInput(f"A cart holds at most {settings.CART_MAX_LINES} lines.", code="cart_full")


def cart_representation(cart) -> dict:
    lines = list(selectors.cart_lines(cart))
    return CartOutput(
        {
            "lines": lines,
            "currency": cart.currency or None,
            "subtotal": sum(line.product.unit_amount * line.quantity for line in lines),
        }
    ).data


@extend_schema(tags=["Cart"])
class CartApi(APIView):
    @extend_schema(
        summary="Read the cart",
        description="The shopper's cart with current catalog prices and its subtotal "
        "(minor units); an empty cart has no currency.",
        responses=CartOutput,
    )
    def get(self, request):
        return Response(cart_representation(selectors.cart_for(request.user)))


@extend_schema(tags=["Cart"])
class CartLineListApi(APIView):
    @extend_schema(
        summary="Add a product to the cart",
        description="Adds a quantity of a product (added to its line if it has one) and "
        "answers with the whole cart. One currency per cart, 1 to 1000 units per line, at "
        "most 100 lines.",
        request=CartLineCreateInput,
        responses={201: CartOutput},
    )
    @refuses(PRODUCT_UNAVAILABLE, services.CurrencyMismatch, CART_FULL)
    def post(self, request):
        data = validated(CartLineCreateInput, request)
        cart = services.add_to_cart(user=request.user, **data)
        return Response(cart_representation(cart), status=status.HTTP_201_CREATED)


@extend_schema(tags=["Cart"])
class CartLineDetailApi(APIView):
    @extend_schema(
        summary="Change a line's quantity",
        description="Sets the quantity of one of the shopper's cart lines (1 to 1000) and "
        "answers with the whole cart.",
        request=CartLineUpdateInput,
        responses=CartOutput,
    )
    def patch(self, request, pk):
        data = validated(CartLineUpdateInput, request)
        cart = services.change_cart_line(user=request.user, line_id=pk, **data)
        return Response(cart_representation(cart))

    @extend_schema(
        summary="Remove a line",
        description="Removes one of the shopper's cart lines.",
        responses={204: None},
    )
    def delete(self, request, pk):
        services.remove_cart_line(user=request.user, line_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Orders"])
@extend_schema_view(
    get=extend_schema(
        summary="List your orders",
        description="The shopper's orders, newest first, in pages of 20.",
    )
)
class OrderListApi(generics.ListAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.orders_of(self.request.user)

    @extend_schema(
        summary="Place an order",
        description="Orders the cart (no body, or `{}`) or the given `lines`, at catalog "
        "prices, and reserves the stock in the same transaction: the order holds it for "
        "10 minutes, 30 once a payment is started. Refused before any stock moves when a "
        "product is unavailable or short (409), the shopper already has 3 unpaid orders "
        "or holds 20 units of a product (409), or the total breaks the currency's rules "
        "(400). Needs an `Idempotency-Key`.",
        request=OrderCreateInput,
        responses={201: OrderOutput},
        examples=[
            OpenApiExample("The cart", value={}, request_only=True),
            OpenApiExample(
                "Given lines",
                value={"lines": [{"product_id": 1, "quantity": 2}]},
                request_only=True,
            ),
        ],
    )
    @refuses(
        InvalidInput("The cart is empty.", code="cart_empty"),
        PRODUCT_UNAVAILABLE,
        services.CurrencyMismatch,
        InvalidAmount("Amounts in JPY are whole yen."),
        AmountTooLarge,
        InsufficientStock,
        services.TooManyPendingOrders,
        services.TooManyReservedUnits,
        Conflict("Could not allocate an order number; try again.", code="order_number_busy"),
    )
    @rate_limited("order_create")
    @idempotent
    def post(self, request):
        data = validated(OrderCreateInput, request)
        lines = data.get("lines")
        if lines is not None:
            lines = [(line["product_id"], line["quantity"]) for line in lines]
        order = services.create_order(user=request.user, lines=lines)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["Orders"])
@extend_schema_view(
    get=extend_schema(
        summary="Read an order",
        description="One of the shopper's orders with its lines, totals, reservation and "
        "latest payment; another shopper's order is 404.",
    )
)
class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.orders_of(self.request.user)


@extend_schema(tags=["Orders"])
class OrderCancelApi(APIView):
    @extend_schema(
        summary="Cancel an unpaid order",
        description="Cancels an order waiting for payment, closes its open payments at "
        "Stripe and releases its stock. A payment Stripe reports paid or in progress "
        "refuses the cancel (409); if Stripe cannot be reached nothing changes (503). "
        "Takes `{}` or no body. Needs an `Idempotency-Key`.",
        request=EMPTY_BODY,
        responses=OrderOutput,
    )
    @refuses(
        Conflict("An order that is paid cannot be cancelled.", code="order_not_cancellable"),
        Conflict(
            "A payment for this order is being processed and cannot be stopped.",
            code="payment_in_progress",
        ),
        Refusal(502, "stripe_request_refused", "The payment provider refused the request."),
        ServiceUnavailable(
            "The payment provider cannot be reached right now. Try again shortly.",
            code="stripe_unavailable",
        ),
    )
    @idempotent
    def post(self, request, pk):
        validated(EmptyInput, request)
        order = services.cancel_order(user=request.user, order_id=pk)
        return Response(OrderOutput(order).data)
