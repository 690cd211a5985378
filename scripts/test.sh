#!/usr/bin/env bash
# `make test`: install what the machine lacks, start PostgreSQL and Redis on free loopback ports
# in a temporary directory, run the suite against them (browser tests in their own process),
# and stop both whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/services.sh
browser=()
[ -x /usr/bin/chromium ] || browser+=(chromium)
services_install "${browser[@]}"
services_start test

export DJANGO_SETTINGS_MODULE=engarde.settings.test
export DATABASE_URL="$PG_URL/engarde"
pg_createdb engarde

.venv/bin/ruff check .
# Type check (config and the packages checked: pyproject.toml's [tool.mypy]).
.venv/bin/mypy
# The apps' one-way layers (pyproject.toml's [tool.importlinter]).
.venv/bin/lint-imports --no-cache
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "Models changed without a migration: run manage.py makemigrations." >&2; exit 1; }
# pytest-asyncio and Playwright's sync API each run an event loop: browser tests go last, alone.
stage() {
  local marker=$1 status=0
  shift
  .venv/bin/python -m pytest -m "$marker" "$@" || status=$?
  # Exit 5 is "no tests selected": fine for a subset given on the command line, never for the
  # whole suite.
  if [ "$status" -eq 5 ] && [ $# -gt 0 ]; then status=0; fi
  return "$status"
}
stage "not browser" "$@"
stage browser "$@"
