from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from api.schema import CachedSchemaView
from api.views import handler404

# Mounted under api/v1/, after every other app's API routes (the last one catches the rest).
urlpatterns = [
    # Built once per process (api.schema), not on every call.
    path("schema/", CachedSchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Any other API path: the contract's JSON 404, in DEBUG too.
    re_path(r"^.*$", handler404, name="api-not-found"),
]
