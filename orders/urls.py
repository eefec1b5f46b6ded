from django.urls import path

from orders.api import (
    CartApi,
    CartLineDetailApi,
    CartLineListApi,
    OrderCancelApi,
    OrderDetailApi,
    OrderListApi,
)

# Mounted under api/v1/.
urlpatterns = [
    path("cart/", CartApi.as_view(), name="cart"),
    path("cart/lines/", CartLineListApi.as_view(), name="cart-lines"),
    path("cart/lines/<id:pk>/", CartLineDetailApi.as_view(), name="cart-line"),
    path("orders/", OrderListApi.as_view(), name="order-list"),
    path("orders/<id:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<id:pk>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
]
