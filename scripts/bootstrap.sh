#!/usr/bin/env bash
# Make (or refresh) everything the two README commands need, under the repo:
#   .venv            the package, editable: what running and `agentarch lint` need (`make dev`: the
#                    lint extra), plus the dev extras (test tools) with --test (`make test`)
#   .venv-checkov    checkov in its own environment (it pins old boto3 and overwrites hcl2), --test only
#   /usr/bin/chromium from Debian's packages, for the browser tests (root only), --test only
# The first run downloads and installs a few hundred MB of packages: it says what it is doing, step
# by step, and how many packages pip has gone through so far. Later runs check a stamp and return.
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
step() { echo "==> $*"; }

# Run pip, showing how far it has got: one line rewritten in place on a terminal, a line every 25
# packages otherwise. Its whole output goes to a log, whose end is shown if it fails.
pip_install() {
  local venv=$1 what=$2; shift 2
  local log="$venv/pip-install.log" started=$SECONDS
  : > "$log"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 \
      | show_pip_progress "$what" "$log"; then
    [ -t 1 ] && printf '\r\033[K'
    echo "pip failed while installing $what; the end of its output (all of it: $log):" >&2
    grep -v '^WARNING: ' "$log" | tail -n 25 >&2
    return 1
  fi
  [ -t 1 ] && printf '\r\033[K'
  echo "    $what: done in $((SECONDS - started)) s"
}

show_pip_progress() {
  local what=$1 log=$2 count=0 line package
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$log"
    case "$line" in
      Collecting\ *|Requirement\ already\ satisfied:\ *)
        count=$((count + 1))
        package=${line#Collecting }
        package=${package#Requirement already satisfied: }
        package=${package%% *}
        if [ -t 1 ]; then
          printf '\r    %s: %d packages resolved (%s)\033[K' "$what" "$count" "${package:0:40}"
        elif [ $((count % 25)) = 0 ]; then
          echo "    $what: $count packages resolved"
        fi ;;
      Installing\ collected\ packages*)
        [ -t 1 ] && printf '\r\033[K'
        echo "    $what: $count packages resolved; installing them (the longest part, quiet for a while) …" ;;
    esac
  done
}

# --- the project's own virtual environment ---
# `make dev` needs the package; `make test` also the dev extras. The stamp says which are installed.
extras=run
[ "$want_test" = 1 ] && extras=dev
want="$(stamp_of pyproject.toml) $extras"
have=$(cat .venv/.agentarch-stamp 2>/dev/null || true)
if [ ! -x .venv/bin/python ] || { [ "$have" != "$want" ] && [ "$have" != "$(stamp_of pyproject.toml) dev" ]; }; then
  if [ ! -x .venv/bin/python ]; then
    step "creating .venv (the first run installs a few hundred MB of packages: a few minutes; later runs: seconds)"
    "$PYTHON" -m venv .venv
    pip_install .venv "pip" --quiet --upgrade pip
  fi
  if [ "$extras" = dev ]; then
    step "installing agentarch and its test tools into .venv"
    pip_install .venv "agentarch + test tools" -e '.[dev]'
  else
    step "installing agentarch into .venv (what running and \`agentarch lint\` need; \`make test\` adds the test tools)"
    pip_install .venv "agentarch" -e '.[lint]'
  fi
  echo "$want" > .venv/.agentarch-stamp
fi

[ "$want_test" = 1 ] || exit 0

# --- checkov, in an environment of its own ---
want=$(stamp_of scripts/checkov-requirements.txt)
if [ ! -x .venv-checkov/bin/checkov ] || [ "$(cat .venv-checkov/.agentarch-stamp 2>/dev/null)" != "$want" ]; then
  step "preparing .venv-checkov (checkov in its own environment)"
  [ -x .venv-checkov/bin/python ] || "$PYTHON" -m venv .venv-checkov
  pip_install .venv-checkov "pip" --quiet --upgrade pip
  pip_install .venv-checkov "checkov" -r scripts/checkov-requirements.txt
  echo "$want" > .venv-checkov/.agentarch-stamp
fi

# --- headless Chromium for the browser tests ---
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and this user cannot apt-get it; browser tests will be skipped" >&2
  fi
fi
