"""The shop's settings plus the benchmark-only URLs (a bare view, dj-stripe's webhook view).

Selected with DJANGO_SETTINGS_MODULE=bench.settings by `bench/run` only; production URLs
(config.urls) are unchanged.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Production-like, but a benchmark delivers no e-mail, has no public front end and some runs
# measure without Redis: the shop's start-up refusals for those (core/checks.py) stay off.
SILENCED_SYSTEM_CHECKS = ["shop.E008", "shop.E009", "shop.E010"]
