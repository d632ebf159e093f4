#!/usr/bin/env bash
# Benchmarks (not part of the tests): sets up like the tests, then prints figures.
# Usage: scripts/bench.sh [all|api|service-memory|streams|sweep|rollout|versions|reads|memory|chaos [chaos flags]]
# all (the default) runs api, service-memory, streams, reads, memory, sweep and rollout, one after the other.
# streams is the test of 1,000 event streams on one API process, whose figures it prints.
# chaos runs bench/chaos.ts (see docs/operations.md#chaos-run) on a PostgreSQL and a Redis of its own;
# the shared ones are still ensured, which also installs the server binaries it needs.
set -euo pipefail
WHAT="${1:-all}"
case "$WHAT" in all | api | service-memory | streams | sweep | rollout | versions | reads | memory | chaos) ;; *) echo "usage: $0 [all|api|service-memory|streams|sweep|rollout|versions|reads|memory|chaos [flags]]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
# Node >= 22 first on PATH (the pinned 24.x LTS, fetched when the shell has none): npm, the build, the
# service and every child it starts run on it, whatever `node` called this script.
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
bash scripts/ensure-deps.sh
PATH="$(bash scripts/ensure-pulumi.sh):$PATH"
export PATH
TEST_REDIS_URL="$(REDIS_PORT="${TEST_REDIS_PORT:-6381}" bash scripts/ensure-redis.sh)"
TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash scripts/ensure-postgres.sh)}"
export TEST_REDIS_URL TEST_DATABASE_URL
# Service processes run the compiled service, as npm start does.
node scripts/build.mjs
case "$WHAT" in
  api) exec node --import tsx bench/run.ts ;;
  service-memory) exec node --import tsx bench/service-memory.ts ;;
  streams) exec npx vitest run test/api/streams.redis.test.ts ;;
  sweep) exec node --import tsx bench/sweep.ts ;;
  rollout) exec node --import tsx bench/rollout.ts ;;
  versions) exec node --import tsx bench/versions.ts ;;
  reads) exec node --import tsx bench/reads.ts ;;
  memory) exec node --import tsx bench/worker-memory.ts ;;
  chaos) exec node --import tsx bench/chaos.ts "${@:2}" ;;
  all)
    node --import tsx bench/run.ts
    node --import tsx bench/service-memory.ts
    npx vitest run test/api/streams.redis.test.ts
    for b in reads worker-memory sweep; do node --import tsx "bench/$b.ts"; done
    exec node --import tsx bench/rollout.ts
    ;;
esac
