#!/usr/bin/env bash
# Installs what is missing, from package registries only (PyPI, Debian, npm). Idempotent and quiet when
# everything is there. Usage: scripts/setup.sh python|bun|chromium|jstools|postgresql|redis ...
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.5

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_python() {
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "→ installation de python3-venv"; apt_install python3-venv python3-pip
  fi
  local stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
  if [ ! -f "$stamp" ]; then
    echo "→ environnement Python (.venv)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
    rm -f .venv/.installed-*; touch "$stamp"
  fi
}

need_load() {
  if ! .venv/bin/python -c 'import locust' 2>/dev/null; then
    echo "→ locust (make load)"
    .venv/bin/pip install -q --disable-pip-version-check -e ".[test,load]"
  fi
}

need_bun() {
  if [ "$(bun --version 2>/dev/null || true)" = "$BUN_VERSION" ]; then return; fi
  if [ -x .tools/node_modules/@oven/bun-linux-x64/bin/bun ]; then return; fi
  if ! command -v npm >/dev/null; then echo "→ installation de nodejs et npm"; apt_install nodejs npm; fi
  # The registry npm is configured with on this machine, for bun and Reflex as well.
  export NPM_CONFIG_REGISTRY=${NPM_CONFIG_REGISTRY:-$(npm config get registry)}
  echo "→ installation de bun $BUN_VERSION (registre npm)"
  if ! npm install -g --silent "bun@$BUN_VERSION" >/dev/null 2>&1 || [ "$(bun --version 2>/dev/null || true)" != "$BUN_VERSION" ]; then
    # Without the package's install script: the platform package carries the binary itself.
    npm install --silent --prefix .tools "@oven/bun-linux-x64@$BUN_VERSION" >/dev/null
  fi
}

# The browser tests' tools from npm (tests/js: axe-core), at the versions of its lockfile.
need_chromium() {
  command -v chromium >/dev/null || { echo "→ installation de chromium (Debian)"; apt_install chromium fonts-dejavu-core; }
}

need_postgresql() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "→ installation de postgresql (Debian)"; apt_install postgresql; }
}

# The test suite's JavaScript tools (tests/js: Lighthouse CI), from the npm registry with bun, as locked.
need_jstools() {
  need_bun
  local stamp=tests/js/node_modules/.installed-$(cat tests/js/package.json tests/js/bun.lock | sha1sum | cut -c1-12)
  if [ ! -f "$stamp" ]; then
    export NPM_CONFIG_REGISTRY=${NPM_CONFIG_REGISTRY:-$(npm config get registry)}
    echo "→ outils JavaScript des tests (tests/js)"
    (cd tests/js && bun install --frozen-lockfile --silent)
    rm -f tests/js/node_modules/.installed-*; touch "$stamp"
  fi
}

need_redis() {
  command -v redis-server >/dev/null || { echo "→ installation de redis-server (Debian)"; apt_install redis-server; }
}

for component in "$@"; do "need_$component"; done
