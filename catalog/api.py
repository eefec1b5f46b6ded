from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny

from catalog.selectors import active_products
from catalog.serializers import ProductSerializer


@extend_schema(tags=["Catalog"])
@extend_schema_view(
    get=extend_schema(
        summary="List the products",
        description="The active products, in pages of 20 (`page`, `page_size`). Prices are "
        "integers in the currency's minor units. No account needed.",
    )
)
class ProductListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self):
        return active_products()


@extend_schema(tags=["Catalog"])
@extend_schema_view(
    get=extend_schema(
        summary="Read a product",
        description="One active product; an inactive or unknown id is 404. No account needed.",
    )
)
class ProductDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self):
        return active_products()
