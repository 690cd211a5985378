"""Settings for benchmark servers: the local ones, plus a bare DRF view to measure against."""

from __future__ import annotations

from engarde.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
