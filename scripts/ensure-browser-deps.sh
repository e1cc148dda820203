#!/usr/bin/env bash
# Install what the real-browser tests need, only when it is missing:
#  - Debian's chromium (Playwright drives it with executable_path; we never download a browser),
#  - CJK fonts so Chinese pages render (and screenshot) legibly,
#  - axe-core from the npm registry, injected into pages by the accessibility tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# npm only when axe-core must be (re)installed: lock file changed since the last install, or none yet.
axe_current() { [ -f node_modules/axe-core/axe.min.js ] && cmp -s package-lock.json node_modules/.installed-lock.json; }
axe_current || command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# grep without -q reads all input: with pipefail, -q would SIGPIPE fc-list and read as "missing".
fc-list : family 2>/dev/null | grep -i "noto sans cjk" >/dev/null || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages: ${need_apt[*]}; run 'sudo apt-get install ${need_apt[*]}'" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! axe_current; then
  npm ci --no-audit --no-fund --silent
  cp package-lock.json node_modules/.installed-lock.json
fi
