"""What an in-process benchmark starts with: Django on the local settings, over a throwaway
SQLite database (or DATABASE_URL if set), without the debug query log."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_start(**environ: str) -> str:
    """Set Django up for this process; `environ` overrides the environment. The work folder."""
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="engarde-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engarde.settings.local")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("ENGARDE_VAR_DIR", workdir)
    os.environ["DEBUG"] = "False"  # no query log growing during the run
    os.environ.update(environ)

    import django

    django.setup()
    return workdir
