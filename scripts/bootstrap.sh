#!/usr/bin/env bash
# Make (or refresh) everything the two README commands need, under the repo:
#   .venv            the package, editable, with its dev extras
#   .venv-checkov    checkov in its own environment (it pins old boto3 and overwrites hcl2)
#   /usr/bin/chromium from Debian's packages, for the browser tests (root only)
# Usage: scripts/bootstrap.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "agentarch needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- the project's own virtual environment ---
want=$(stamp_of pyproject.toml)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.agentarch-stamp 2>/dev/null)" != "$want" ]; then
  echo "==> preparing .venv (the package and its dev tools)"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  echo "$want" > .venv/.agentarch-stamp
fi

[ "$want_test" = 1 ] || exit 0

# --- checkov, in an environment of its own ---
want=$(stamp_of scripts/checkov-requirements.txt)
if [ ! -x .venv-checkov/bin/checkov ] || [ "$(cat .venv-checkov/.agentarch-stamp 2>/dev/null)" != "$want" ]; then
  echo "==> preparing .venv-checkov (checkov in its own environment)"
  [ -x .venv-checkov/bin/python ] || "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/checkov-requirements.txt
  echo "$want" > .venv-checkov/.agentarch-stamp
fi

# --- headless Chromium for the browser tests ---
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and this user cannot apt-get it; browser tests will be skipped" >&2
  fi
fi
