#!/usr/bin/env bash
# Installs the npm dependencies when package-lock.json or the Node version changed since the last
# install (native add-ons are built for one Node ABI).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.clusterd-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # `npm install`, not `npm ci`: npm 11 calls the lock out of sync when a registry does not serve
  # some other platform's optional packages (msgpackr-extract's darwin/win32 builds here).
  echo "[ensure-deps] npm install" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
