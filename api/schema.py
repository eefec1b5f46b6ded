"""The OpenAPI schema, built once per process and language instead of on every request.

drf-spectacular walks every view and serializer to build it (hundreds of milliseconds, a
cheap way to load the server from outside); the API cannot change while the process runs,
so the first build is kept. The schema is public (no per-user parts), so one copy serves
everybody; it is rendered as JSON or YAML per request from that copy.
"""

import threading

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_built: dict[tuple, dict] = {}
_lock = threading.Lock()


def forget_built_schemas() -> None:
    """For tests that change the URLs or settings the schema is built from."""
    with _lock:
        _built.clear()


class CachedSchemaView(SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language(), self.serve_public)
        schema = _built.get(key)
        if schema is None:
            with _lock:
                schema = _built.get(key)
                if schema is None:
                    generator = self.generator_class(
                        urlconf=self.urlconf, api_version=version, patterns=self.patterns
                    )
                    schema = generator.get_schema(request=request, public=self.serve_public)
                    _built[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )
