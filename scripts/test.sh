#!/usr/bin/env bash
# `make test`: install what the machine lacks, start PostgreSQL and Redis on free loopback ports
# in a temporary directory, run the suite against them (browser tests in their own process),
# and stop both whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} ..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

work=$(mktemp -d "${TMPDIR:-/tmp}/engarde-test.XXXXXX")
chmod 755 "$work"
# initdb refuses to run as root: run the server as the unprivileged postgres user.
pg_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  pg_user=postgres
  id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
fi
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
mkdir -p "$work/pg" "$work/run"
[ "$(id -u)" -eq 0 ] && chown "$pg_user" "$work/pg" "$work/run"

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
redis_port=$(free_port)

cleanup() {
  status=$?
  as_pg "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

as_pg "$PG_BIN/initdb" -D "$work/pg" -U engarde -A trust -E UTF8 --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$work/pg" -w -l "$work/run/postgres.log" \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"

export DJANGO_SETTINGS_MODULE=engarde.settings.test
export DATABASE_URL="postgres://engarde@127.0.0.1:$pg_port/engarde"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export PG_BIN
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U engarde engarde

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
