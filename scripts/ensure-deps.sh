#!/usr/bin/env bash
# Installs the npm dependencies when package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.clusterd-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[ensure-deps] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
