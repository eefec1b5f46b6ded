"""The OpenAPI schema, built once per process and language instead of on every request.

drf-spectacular walks every view and serializer to build it (hundreds of milliseconds, a
cheap way to load the server from outside); the API cannot change while the process runs,
so the first build is kept. The schema is public (no per-user parts), so one copy serves
everybody; it is rendered as JSON or YAML per request from that copy.

The cache sits in the generator (`generator_class`, the view's public hook), so the view
itself is drf-spectacular's, unchanged.
"""

import threading

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView

_built: dict[tuple, dict] = {}
_lock = threading.Lock()


def forget_built_schemas() -> None:
    """For tests that change the URLs or settings the schema is built from."""
    with _lock:
        _built.clear()


class CachedSchemaGenerator(SchemaGenerator):
    def get_schema(self, request=None, public=False):
        key = (self.api_version, translation.get_language(), public)
        schema = _built.get(key)
        if schema is None:
            with _lock:
                schema = _built.get(key)
                if schema is None:
                    schema = super().get_schema(request=request, public=public)
                    _built[key] = schema
        return schema


class CachedSchemaView(SpectacularAPIView):
    generator_class = CachedSchemaGenerator
