#!/usr/bin/env bash
# `make bench`: start PostgreSQL and Redis as `make test` does (scripts/services.sh), then run
# every benchmark in bench/ against them, one after the other, each in a database of its own
# and an empty Redis; the WhatsApp and chat ones with two daphne processes and two Celery
# workers. A benchmark that fails is reported and the others still run; the exit status is 0
# only if every one ran to the end.
#   BENCH_QUICK=1         small sizes, for a run of minutes (default: bench/README.md's sizes)
#   BENCH_ONLY="chat ..."  only these (bench/bench_NAME.py)
set -euo pipefail
cd "$(dirname "$0")/.."

# A benchmark missing here runs with its own defaults.
declare -A quick=(
  [builtin]="--seconds 1"
  [chat]="--sockets 50 --messages 10 --rate 4"
  [console]="--first 2000 --messages 20000 --rounds 3"
  [dashboard]="--first 2000 --messages 20000 --rounds 3"
  [email]="--briefs 200"
  [hitl_sla]="--open 2000 --due 100"
  [privacy]="--messages 1000 --others 1 --conversations 20"
  [whatsapp]="--seconds 2 --rate 2 --turns 10"
)
declare -A full=(
  [chat]="--sockets 500 --messages 40 --rate 2"
  [whatsapp]="--seconds 5 --rate 10 --turns 300"
)
# Scaled out as production is: web servers behind a balancer, workers on one broker.
declare -A stack=(
  [chat]="--servers 2 --workers 2"
  [whatsapp]="--servers 2 --workers 2"
)
sizes=full
[ -n "${BENCH_QUICK:-}" ] && [ "$BENCH_QUICK" != 0 ] && sizes=quick

source scripts/services.sh
services_install
services_start bench
"$PG_BIN/postgres" --version
redis-server --version
# Each benchmark chooses its own settings; none sends mail (anymail's test backend keeps it in
# memory, where `make run`'s console backend would print every notice of the demo's seeding).
unset DJANGO_SETTINGS_MODULE
export EMAIL_ESP=test EMAIL_BACKUP_ESP=

summary=()
failed=0
for script in bench/bench_*.py; do
  name=$(basename "$script" .py)
  name=${name#bench_}
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then continue; fi
  if [ "$sizes" = quick ]; then args=${quick[$name]:-}; else args=${full[$name]:-}; fi
  args="$args ${stack[$name]:-}"
  pg_createdb "bench_$name"
  redis-cli -h 127.0.0.1 -p "$redis_port" flushall >/dev/null
  echo
  echo "=== $name: .venv/bin/python $script $args"
  started=$SECONDS
  status=0
  # shellcheck disable=SC2086 # the arguments are words
  DATABASE_URL="$PG_URL/bench_$name" .venv/bin/python "$script" $args || status=$?
  pg_dropdb "bench_$name"
  elapsed=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    summary+=("$(printf '%-10s ok      %5d s' "$name" "$elapsed")")
  else
    summary+=("$(printf '%-10s FAILED  %5d s  (exit %d)' "$name" "$elapsed" "$status")")
    failed=$((failed + 1))
  fi
done

echo
echo "=== make bench ($sizes sizes): ${#summary[@]} benchmarks, $failed failed"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ]
