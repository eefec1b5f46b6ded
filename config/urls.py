"""Each app's urls.py, mounted: the API under api/v1/, the admin, the demo shop (also the
site root's destination), /metrics."""

from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.urls import admin_urlpatterns as admin_login_urlpatterns
from observability.urls import metrics_urlpatterns
from payments.urls import webhook_urlpatterns

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("observability.urls")),
    # Last: the schema, the docs and the contract's JSON 404 for any other API path.
    path("", include("api.urls")),
]

urlpatterns = [
    path("api/v1/", include(webhook_urlpatterns)),  # first: the busiest route (payments.urls)
    path("api/v1/", include(api_v1)),
    path("admin/", include(admin_login_urlpatterns)),  # before the admin site's own login
    path("admin/", admin.site.urls),
    path("shop/", include("demo_shop.urls")),
    path("", RedirectView.as_view(pattern_name="shop"), name="home"),  # the site root: the shop
    path("", include(metrics_urlpatterns)),
]

# DEBUG only (an empty list otherwise): lets gunicorn in development and the end-to-end
# suite serve the shop's scripts and styles, as runserver does.
urlpatterns += staticfiles_urlpatterns()

handler400 = "api.views.handler400"
handler403 = "api.views.handler403"
handler404 = "api.views.handler404"
handler500 = "api.views.handler500"
