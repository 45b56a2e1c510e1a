#!/usr/bin/env bash
# Set up everything the project needs on this machine; safe to run again (seconds when done).
#   scripts/setup.sh          Python environment (.venv, from the lock file, with bytecode)
#   scripts/setup.sh --test   plus the services the tests start: PostgreSQL, Redis, Azurite, Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
say() { printf '[setup] %s\n' "$*"; }

if [ ! -x .uvenv/bin/uv ]; then
  say "installing uv $UV_VERSION"
  python3 -m venv .uvenv
  .uvenv/bin/pip install -q "uv==$UV_VERSION"
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  .uvenv/bin/uv venv -q .venv --python python3.11
fi
# Reinstall only when the lock or the project metadata changed. Bytecode is compiled at install
# time because the environment sets PYTHONDONTWRITEBYTECODE=1 (every `import dagster` costs seconds without it).
stamp=.venv/.dataspace-installed
if ! cat requirements.lock.txt pyproject.toml | cmp -s - "$stamp"; then
  say "installing Python packages from requirements.lock.txt"
  .uvenv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode -r requirements.lock.txt
  .uvenv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode --no-deps -e .
  cat requirements.lock.txt pyproject.toml > "$stamp"
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -x node_modules/.bin/azurite-blob ] || ! cmp -s package-lock.json node_modules/.dataspace-lock; then
    say "installing Azurite (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json node_modules/.dataspace-lock
  fi
fi
