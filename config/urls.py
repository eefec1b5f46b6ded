from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.api import LogoutApi, RegisterApi, TokenApi
from api import views as errors
from api.schema import CachedSchemaView
from catalog.api import ProductDetailApi, ProductListApi
from config.admin_login import admin_login
from config.storefront import shop_page
from observability.health import HealthApi, ReadinessApi
from observability.metrics_export import metrics_view
from orders.api import (
    CartApi,
    CartLineDetailApi,
    CartLineListApi,
    OrderCancelApi,
    OrderDetailApi,
    OrderListApi,
)
from payments.api import CheckoutSessionApi, OrderPaymentApi, PaymentIntentApi
from payments.views import stripe_webhook

api_v1 = [
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("products/", ProductListApi.as_view(), name="product-list"),
    path("products/<id:pk>/", ProductDetailApi.as_view(), name="product-detail"),
    path("cart/", CartApi.as_view(), name="cart"),
    path("cart/lines/", CartLineListApi.as_view(), name="cart-lines"),
    path("cart/lines/<id:pk>/", CartLineDetailApi.as_view(), name="cart-line"),
    path("orders/", OrderListApi.as_view(), name="order-list"),
    path("orders/<id:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<id:pk>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path(
        "orders/<id:pk>/checkout-session/",
        CheckoutSessionApi.as_view(),
        name="order-checkout-session",
    ),
    path("orders/<id:pk>/payment-intent/", PaymentIntentApi.as_view(), name="order-payment-intent"),
    path("orders/<id:pk>/payment/", OrderPaymentApi.as_view(), name="order-payment"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("health/", HealthApi.as_view(), name="health"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
    # Built once per process (api.schema), not on every call.
    path("schema/", CachedSchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Any other API path: the contract's JSON 404, in DEBUG too.
    re_path(r"^.*$", errors.handler404, name="api-not-found"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("shop/", shop_page, name="shop"),
    path("shop/orders/<id:order_id>", shop_page, name="shop-order"),
    path("metrics", metrics_view, name="metrics"),
]

# DEBUG only (an empty list otherwise): lets gunicorn in development and the end-to-end
# suite serve the shop's scripts and styles, as runserver does.
urlpatterns += staticfiles_urlpatterns()

handler400 = "api.views.handler400"
handler403 = "api.views.handler403"
handler404 = "api.views.handler404"
handler500 = "api.views.handler500"
