# Sourced by scripts/test.sh (`make test`) and scripts/bench.sh (`make bench`), from the
# project's root: PostgreSQL and Redis on free loopback ports in a temporary directory, stopped
# (and the directory removed) when the sourcing script exits, whatever happens.
#
#   services_install [PACKAGE...]  installs Debian's redis-server and PostgreSQL if missing, and
#                                  the packages given (the caller checks which it lacks)
#   services_start NAME            starts both; sets PG_BIN (exported), pg_port, redis_port,
#                                  PG_URL (postgres://engarde@127.0.0.1:PORT, no database) and
#                                  REDIS_URL (exported)
#   pg_createdb NAME, pg_dropdb NAME  (the latter closing any session left on it)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

services_install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  missing+=("$@")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} ..."
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# initdb refuses to run as root: run the server as the unprivileged postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

services_cleanup() {
  status=$?
  as_pg "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
  exit $status
}

services_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  export PG_BIN
  work=$(mktemp -d "${TMPDIR:-/tmp}/engarde-$1.XXXXXX")
  chmod 755 "$work"
  pg_user=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    pg_user=postgres
    id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
  fi
  mkdir -p "$work/pg" "$work/run"
  [ "$(id -u)" -eq 0 ] && chown "$pg_user" "$work/pg" "$work/run"
  pg_port=$(free_port)
  redis_port=$(free_port)
  trap services_cleanup EXIT INT TERM

  as_pg "$PG_BIN/initdb" -D "$work/pg" -U engarde -A trust -E UTF8 --no-sync >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$work/pg" -w -l "$work/run/postgres.log" \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
  PG_URL="postgres://engarde@127.0.0.1:$pg_port"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
}

pg_createdb() { as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U engarde "$1"; }
pg_dropdb() { as_pg "$PG_BIN/dropdb" -h 127.0.0.1 -p "$pg_port" -U engarde --force "$1"; }
