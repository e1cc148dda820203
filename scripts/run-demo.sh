#!/usr/bin/env bash
# `make run`: migrate, ensure the demo users, start the bundled ZStack simulator (unless ZSTACK_URL
# points elsewhere) and the background worker, and serve the dashboard on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
mkdir -p var/staticfiles  # whitenoise serves collected files from here, and warns when it is missing

$PY manage.py migrate --noinput
$PY manage.py ensure_demo_users

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
if [ -z "${ZSTACK_URL:-}" ]; then
  export ZSTACK_URL=http://127.0.0.1:8080
  # SIMULATOR_OPTIONS, e.g. "--job-seconds 45", makes the demo's ZStack slow, to watch writes in progress.
  # shellcheck disable=SC2086
  # --capacity-growth: storages fill over time by seeded trends (issue 12; simulator/growth.py).
  $PY -m simulator --host 127.0.0.1 --port 8080 --capacity-growth ${SIMULATOR_OPTIONS:-} &
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

echo "Dashboard: http://127.0.0.1:8000/"
$PY manage.py runserver 127.0.0.1:8000
