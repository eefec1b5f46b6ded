"""config.urls plus two benchmark-only routes.

- `bench/ping`: a bare Django view that only answers 200 behind the same middleware and
  server (the framework ceiling).
- `bench/djstripe/webhook/<uuid>/`: dj-stripe's own webhook view, which re-fetches every
  event from Stripe (here the emulator) before it syncs it.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as shop_urlpatterns
from payments.gateway import client

# dj-stripe calls the SDK's module-level API: point it at STRIPE_API_BASE (the emulator).
client.configure_global_sdk()


@csrf_exempt
def ping(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/ping", ping, name="bench-ping"),
    path("bench/djstripe/", include("djstripe.urls", namespace="djstripe")),
    *shop_urlpatterns,
]
