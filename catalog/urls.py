from django.urls import path

from catalog.api import ProductDetailApi, ProductListApi

# Mounted under api/v1/.
urlpatterns = [
    path("products/", ProductListApi.as_view(), name="product-list"),
    path("products/<id:pk>/", ProductDetailApi.as_view(), name="product-detail"),
]
