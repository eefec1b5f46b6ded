from django.urls import path

from observability.health import HealthApi, ReadinessApi
from observability.metrics_export import metrics_view

# Mounted under api/v1/.
urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
]

# Mounted at the site's root: what Prometheus scrapes.
metrics_urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
]
