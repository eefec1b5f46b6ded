from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.ratelimits import rate_limited
from api.serializers import validated
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


def cart_representation(cart) -> dict:
    lines = list(selectors.cart_lines(cart))
    return CartOutput(
        {
            "lines": lines,
            "currency": cart.currency or None,
            "subtotal": sum(line.product.unit_amount * line.quantity for line in lines),
        }
    ).data


class CartApi(APIView):
    @extend_schema(responses=CartOutput)
    def get(self, request):
        return Response(cart_representation(selectors.cart_for(request.user)))


class CartLineListApi(APIView):
    @extend_schema(request=CartLineCreateInput, responses={201: CartOutput})
    def post(self, request):
        data = validated(CartLineCreateInput, request)
        cart = services.add_to_cart(user=request.user, **data)
        return Response(cart_representation(cart), status=status.HTTP_201_CREATED)


class CartLineDetailApi(APIView):
    @extend_schema(request=CartLineUpdateInput, responses=CartOutput)
    def patch(self, request, pk):
        data = validated(CartLineUpdateInput, request)
        cart = services.change_cart_line(user=request.user, line_id=pk, **data)
        return Response(cart_representation(cart))

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.remove_cart_line(user=request.user, line_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderListApi(generics.ListAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.orders_of(self.request.user)

    @extend_schema(request=OrderCreateInput, responses={201: OrderOutput})
    @rate_limited("order_create")
    @idempotent
    def post(self, request):
        data = validated(OrderCreateInput, request)
        lines = data.get("lines")
        if lines is not None:
            lines = [(line["product_id"], line["quantity"]) for line in lines]
        order = services.create_order(user=request.user, lines=lines)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.orders_of(self.request.user)


class OrderCancelApi(APIView):
    @extend_schema(request=EmptyInput, responses=OrderOutput)
    @idempotent
    def post(self, request, pk):
        validated(EmptyInput, request)
        order = services.cancel_order(user=request.user, order_id=pk)
        return Response(OrderOutput(order).data)
