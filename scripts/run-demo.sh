#!/usr/bin/env bash
# `make run`: migrate, ensure the demo users, start the bundled ZStack simulator (unless ZSTACK_URL
# points elsewhere) and the background worker, and serve the dashboard on http://127.0.0.1:8000.
# CONSOLE_PORT and SIMULATOR_PORT choose other ports than 8000 and 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# The ports, checked before anything starts or is printed: a busy one is named with the variable that
# chooses another, instead of "started" followed by a traceback.
CONSOLE_PORT="${CONSOLE_PORT:-8000}"
SIMULATOR_PORT="${SIMULATOR_PORT:-8080}"
port_busy() {  # exit 0 when something already listens on 127.0.0.1:$1 (or it cannot be bound)
  $PY -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}
for port in "$CONSOLE_PORT" "$SIMULATOR_PORT"; do
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "make run: \"$port\" is not a port number (CONSOLE_PORT, SIMULATOR_PORT: 1 to 65535)." >&2
    exit 1
  fi
done
busy=0
if port_busy "$CONSOLE_PORT"; then
  echo "make run: port $CONSOLE_PORT (the console) is already in use on 127.0.0.1." >&2
  echo "  Stop what uses it, or choose another port: CONSOLE_PORT=8001 make run" >&2
  busy=1
fi
if [ -z "${ZSTACK_URL:-}" ] && port_busy "$SIMULATOR_PORT"; then
  echo "make run: port $SIMULATOR_PORT (the ZStack simulator) is already in use on 127.0.0.1." >&2
  echo "  Stop what uses it, or choose another port: SIMULATOR_PORT=8081 make run" >&2
  busy=1
fi
if [ "$busy" = 1 ]; then
  echo "  Both at once: CONSOLE_PORT=8001 SIMULATOR_PORT=8081 make run" >&2
  exit 1
fi

export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
mkdir -p var/staticfiles  # whitenoise serves collected files from here, and warns when it is missing

$PY manage.py migrate --noinput
$PY manage.py ensure_demo_users

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
if [ -z "${ZSTACK_URL:-}" ]; then
  export ZSTACK_URL="http://127.0.0.1:$SIMULATOR_PORT"
  # SIMULATOR_OPTIONS, e.g. "--job-seconds 45", makes the demo's ZStack slow, to watch writes in progress.
  # shellcheck disable=SC2086
  # --capacity-growth: storages fill over time by seeded trends (issue 12; simulator/growth.py).
  $PY -m simulator --host 127.0.0.1 --port "$SIMULATOR_PORT" --capacity-growth ${SIMULATOR_OPTIONS:-} &
  pids+=($!)
  echo "ZStack simulator started on $ZSTACK_URL (pid ${pids[-1]})"
  # DEMO ONLY (issue 12): 14 days of backdated capacity history drawn from the simulator's trends, so
  # charts and forecasts show at once. Once, into an empty history; never against a real ZStack.
  for _ in $(seq 50); do
    $PY manage.py seed_capacity_history 2>/dev/null && break
    sleep 0.2  # the simulator is still starting
  done
else
  echo "Using the ZStack management node at $ZSTACK_URL"
fi

# The background worker follows ZStack jobs that outlast a web request and records their outcome.
$PY manage.py run_worker &
pids+=($!)
echo "Background worker started (pid ${pids[-1]})"

echo "Dashboard: http://127.0.0.1:$CONSOLE_PORT/  (Ctrl+C stops the console, the worker and the simulator)"
$PY manage.py runserver "127.0.0.1:$CONSOLE_PORT"
