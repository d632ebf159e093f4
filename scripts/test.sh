#!/usr/bin/env bash
# The whole test suite: installs what it needs (npm deps, Redis, PostgreSQL, the Pulumi CLI, the
# schemathesis API fuzzer), type-checks, then runs every layer: pure, record store, Redis, engine (real Pulumi CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
# Node >= 22 first on PATH (the pinned 24.x LTS, fetched when the shell has none): npm, the build, the
# service and every child it starts run on it, whatever `node` called this script.
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
bash scripts/ensure-deps.sh
PATH="$(bash scripts/ensure-pulumi.sh):$PATH"
export PATH
# Tests start their own redis-server processes too (restart tests); this one is shared.
REDIS_PORT="${TEST_REDIS_PORT:-6381}"
TEST_REDIS_URL="$(REDIS_PORT=$REDIS_PORT bash scripts/ensure-redis.sh)"
TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash scripts/ensure-postgres.sh)}"
export TEST_REDIS_URL TEST_DATABASE_URL
# test/api/openapi-fuzz.redis.test.ts runs it.
CLUSTERD_SCHEMATHESIS="$(bash scripts/ensure-schemathesis.sh)"
export CLUSTERD_SCHEMATHESIS
echo "[test] typecheck" >&2
npx tsc --noEmit
mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
