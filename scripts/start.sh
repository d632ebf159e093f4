#!/usr/bin/env bash
# Runs the whole service (API + workers) with its embedded defaults: PGlite records and a
# file:// state backend under ./.clusterd-data, Redis on 127.0.0.1:6379 (started if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
# Node >= 22 first on PATH (the pinned 24.x LTS, fetched when the shell has none): npm, the build, the
# service and every child it starts run on it, whatever `node` called this script.
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
bash scripts/ensure-deps.sh
PATH="$(bash scripts/ensure-pulumi.sh):$PATH"
export PATH
if [ -z "${REDIS_URL:-}" ]; then REDIS_URL="$(bash scripts/ensure-redis.sh)"; export REDIS_URL; fi
node scripts/build.mjs
# Embedded records run PostgreSQL compiled to WebAssembly in this process. V8 compiles a module
# twice by default (a fast baseline, then optimized code for hot functions); the baseline alone
# (--liftoff-only) keeps the process about 150 MB smaller, resident, for about 5 % slower
# statements (measured with PGlite 0.5 on Node 24, see docs/operations.md).
# A young generation of 4 MB instead of V8's default 16 MB: the service allocates little that lives
# long, and the default's reserve is most of an idle process (171 MB resident -> 131 MB with
# PostgreSQL records; POST /v1/clusters throughput unchanged within the noise, 435-487/s either way).
NODE_FLAGS=(--enable-source-maps --max-semi-space-size=4)
# --expose-gc lets the first start hand back at once the memory PGlite grew while creating the
# database (src/store/open-store.ts): 300 MB that would otherwise stay resident until V8 collects it.
if [ -z "${DATABASE_URL:-}" ]; then exec node "${NODE_FLAGS[@]}" --liftoff-only --expose-gc dist/src/main.js; fi
exec node "${NODE_FLAGS[@]}" dist/src/main.js
