#!/usr/bin/env bash
# Create (or repair) the virtualenv with a Python >= 3.12. A .venv whose interpreter is too old, or
# whose pip is missing (Debian's python3.X without python3.X-venv leaves such a half-made one), is rebuilt.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
   && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  exit 0
fi

py=$(scripts/find-python.sh)
rm -rf "$venv"
echo "Creating $venv with $py ($("$py" --version 2>&1))"
if ! "$py" -m venv "$venv"; then
  rm -rf "$venv"
  # Debian splits venv/ensurepip out of the interpreter package; install it when we may.
  pkg="python$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $pkg (needed to create virtualenvs)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    "$py" -m venv "$venv" || { rm -rf "$venv"; exit 1; }
  else
    echo "error: '$py -m venv' failed; install $pkg (e.g. 'sudo apt-get install $pkg') and run make again." >&2
    exit 1
  fi
fi
