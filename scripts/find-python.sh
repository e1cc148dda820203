#!/usr/bin/env bash
# Print the path of a Python >= 3.12 found on this machine, or explain what was found and fail.
set -u
found=()
for cand in python3.14 python3.13 python3.12 python3; do
  path=$(command -v "$cand" 2>/dev/null) || continue
  # pyenv shims exist for versions that are not selected; ask the interpreter itself.
  if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$path"; exit 0
  fi
  found+=("$cand: $("$path" --version 2>&1 | head -1)")
done
# pyenv installs versions without putting them on PATH; look there too, but do not require pyenv.
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*; do
  if [ -x "$dir/bin/python3" ]; then echo "$dir/bin/python3"; exit 0; fi
done
echo "error: this project needs Python >= 3.12; found: ${found[*]:-no python3 at all}." >&2
echo "Install python3.12 or newer (e.g. 'apt-get install python3.13' or pyenv) and run make again." >&2
exit 1
