from django.urls import path

from payments.checkout.api import CheckoutSessionApi, OrderPaymentApi, PaymentIntentApi
from payments.webhooks.views import stripe_webhook

# Mounted under api/v1/.
urlpatterns = [
    path(
        "orders/<id:pk>/checkout-session/",
        CheckoutSessionApi.as_view(),
        name="order-checkout-session",
    ),
    path("orders/<id:pk>/payment-intent/", PaymentIntentApi.as_view(), name="order-payment-intent"),
    path("orders/<id:pk>/payment/", OrderPaymentApi.as_view(), name="order-payment"),
]

# Mounted under api/v1/ before every other API route: Stripe's deliveries are most of the
# API's requests, and resolving them first skips walking the others (bench/run ingest).
webhook_urlpatterns = [
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
]
