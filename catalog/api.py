from rest_framework import generics
from rest_framework.permissions import AllowAny

from catalog.selectors import active_products
from catalog.serializers import ProductSerializer


class ProductListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self):
        return active_products()


class ProductDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self):
        return active_products()
