"""What the benchmarks share: Django started in-process on the local settings (a throwaway
SQLite database, or DATABASE_URL if set, without the debug query log), and the two helpers of
those that start servers."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
import urllib.request
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")
