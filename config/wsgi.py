import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Refuse to serve with a configuration that would lose or leak money (see core/checks.py).
from core.checks import fail_on_configuration_errors, warn_on_configuration_warnings  # noqa: E402

fail_on_configuration_errors()
warn_on_configuration_warnings()  # e.g. collectstatic forgotten (shop.W001)
