from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictSerializer, id_field
from orders.models import Order, OrderLine
from orders.selectors import payment_summary


def quantity_field():
    return serializers.IntegerField(min_value=1, max_value=settings.LINE_MAX_QUANTITY)


# --- input -------------------------------------------------------------------------------
class CartLineCreateInput(StrictSerializer):
    product_id = id_field()
    quantity = quantity_field()


class CartLineUpdateInput(StrictSerializer):
    quantity = quantity_field()


class OrderLineInput(StrictSerializer):
    product_id = id_field()
    quantity = quantity_field()


class OrderCreateInput(StrictSerializer):
    lines = OrderLineInput(
        many=True, required=False, allow_empty=False, max_length=settings.CART_MAX_LINES
    )


class EmptyInput(StrictSerializer):
    """For POSTs that take no fields (cancel): `{}` or no body."""


# --- output ------------------------------------------------------------------------------
class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    name = serializers.CharField(source="product.name")
    unit_amount = serializers.IntegerField(source="product.unit_amount")
    quantity = serializers.IntegerField()
    line_total = serializers.SerializerMethodField()

    def get_line_total(self, line) -> int:
        return line.product.unit_amount * line.quantity


class CartOutput(serializers.Serializer):
    lines = CartLineOutput(many=True)
    currency = serializers.CharField(allow_null=True)
    subtotal = serializers.IntegerField()


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product_id", "sku", "name", "unit_amount", "quantity", "line_total"]


class PaymentSummaryOutput(serializers.Serializer):
    status = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    amount_refunded = serializers.IntegerField()
    failure_message = serializers.CharField(allow_blank=True)


class OrderOutput(serializers.ModelSerializer):
    lines = OrderLineOutput(many=True, read_only=True)
    payment = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "fulfilment_status",
            "currency",
            "lines",
            "subtotal",
            "total",
            "amount_refunded",
            "created_at",
            "reserved_until",
            "payment",
        ]

    @extend_schema_field(PaymentSummaryOutput(allow_null=True))
    def get_payment(self, order):
        summary = payment_summary(order)
        return PaymentSummaryOutput(summary).data if summary is not None else None
