#!/usr/bin/env bash
# `make run`: migrate, ensure the demo users, start the bundled ZStack simulator (unless ZSTACK_URL
# points elsewhere), and serve the dashboard on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
mkdir -p var/staticfiles  # whitenoise serves collected files from here, and warns when it is missing

$PY manage.py migrate --noinput
$PY manage.py ensure_demo_users

if [ -z "${ZSTACK_URL:-}" ]; then
  export ZSTACK_URL=http://127.0.0.1:8080
  $PY -m simulator --host 127.0.0.1 --port 8080 &
  sim_pid=$!
  trap 'kill $sim_pid 2>/dev/null || true' EXIT INT TERM
  echo "ZStack simulator started on $ZSTACK_URL (pid $sim_pid)"
else
  echo "Using the ZStack management node at $ZSTACK_URL"
fi

echo "Dashboard: http://127.0.0.1:8000/"
$PY manage.py runserver 127.0.0.1:8000
