from rest_framework import serializers

from catalog.models import Product


class ProductSerializer(serializers.ModelSerializer):
    available_quantity = serializers.IntegerField(source="stock", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "unit_amount",
            "currency",
            "available_quantity",
        ]
        read_only_fields = fields
