"""The shop's settings plus the benchmark-only URLs (a bare view, dj-stripe's webhook view).

Selected with DJANGO_SETTINGS_MODULE=bench.settings by `bench/run` only; production URLs
(config.urls) are unchanged.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
