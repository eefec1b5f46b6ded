"""Settings, read from the environment (django-environ) with `.env` honoured when present.

With no environment at all the project runs on embedded development defaults: SQLite
under var/, local-memory cache, eager Celery tasks and console e-mail. Every variable is
listed, with its meaning, in .env.example. One module per concern; each imports from the
others the values it depends on (`env` and `DEBUG` from base).
"""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.observability import *  # noqa: F403
from config.settings.payments import *  # noqa: F403
from config.settings.services import *  # noqa: F403
from config.settings.shop import *  # noqa: F403
