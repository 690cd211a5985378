#!/usr/bin/env bash
# Run a command, and run it again whenever it exits, until this script is told to stop.
#
#   scripts/restarting.sh .venv/bin/celery --app engarde worker ...
#
# `make run` (Procfile.local) wraps the Celery worker and beat in it: honcho stops the whole
# stack, web server included, as soon as one of its processes exits, so a crashed worker must
# come back instead of exiting. SIGTERM or SIGINT is passed on to the command, and the script
# exits once the command has: nothing is left running. A command that keeps failing within
# RESTART_FAST_EXIT seconds is started again after 1, 2, 4... up to 30 seconds.
set -u

child=0
stopping=0
stop() {
  stopping=1
  if [ "$child" -ne 0 ]; then kill -TERM "$child" 2>/dev/null; fi
}
trap stop TERM INT

# Run "$@" in the background and wait for it; the status it exited with.
run() {
  "$@" &
  child=$!
  wait "$child"
  status=$?
  # A trapped signal ends `wait` early: wait again until the process has really exited.
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
  done
  child=0
  return "$status"
}

delay=1
while [ "$stopping" -eq 0 ]; do
  started=$SECONDS
  run "$@"
  status=$?
  if [ "$stopping" -ne 0 ]; then break; fi
  if [ $((SECONDS - started)) -ge "${RESTART_FAST_EXIT:-10}" ]; then delay=1; fi
  echo "restarting.sh: '$1' exited with status $status; starting it again in ${delay} s" >&2
  run sleep "$delay"
  delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
