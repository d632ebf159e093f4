#!/usr/bin/env bash
# The whole test suite: installs what it needs (Node, npm deps, Redis, PostgreSQL, the Pulumi CLI,
# the schemathesis API fuzzer), builds, then runs every vitest layer (unit, store, redis, engine) with
# coverage while the type check and the linters (tsc, ESLint, the layering rules, Prettier, Redocly on
# the OpenAPI description) run beside it. Any failure fails the run.
# Arguments go to vitest alone: `npm test -- test/unit/cursors.test.ts -t 'name'`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node >= 22 first on PATH (the pinned 24.x LTS, fetched when the shell has none): npm, the build, the
# service and every child it starts run on it, whatever `node` called this script.
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
bash scripts/ensure-deps.sh
# Made once here rather than by each vitest project's global setup; see test/setup/services.ts.
CLUSTERD_PULUMI_DIR="$(bash scripts/ensure-pulumi.sh)"
CLUSTERD_HELM_DIR="$(bash scripts/ensure-helm.sh)"
TEST_REDIS_URL="${TEST_REDIS_URL:-$(REDIS_PORT="${TEST_REDIS_PORT:-6381}" bash scripts/ensure-redis.sh)}"
TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash scripts/ensure-postgres.sh)}"
CLUSTERD_SCHEMATHESIS="$(bash scripts/ensure-schemathesis.sh)"
# The test of Redis over TLS makes its certificates with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
  log() { echo "[test] $*" >&2; }
  # shellcheck source=lib/apt.sh
  source scripts/lib/apt.sh
  log "installing openssl with apt"
  apt_install openssl
fi
export CLUSTERD_PULUMI_DIR CLUSTERD_HELM_DIR TEST_REDIS_URL TEST_DATABASE_URL CLUSTERD_SCHEMATHESIS
node scripts/build.mjs
export CLUSTERD_BUILT=1
if [ "$#" -gt 0 ]; then exec npx vitest run "$@"; fi

# The type check and the linters run beside vitest: each alone would keep a core idle for its length.
checks_log="$(mktemp)"
trap 'rm -f "$checks_log"' EXIT
(npx tsc --noEmit && npm run --silent lint) >"$checks_log" 2>&1 &
checks_pid=$!
status=0
npx vitest run --coverage || status=$?
checks_status=0
wait "$checks_pid" || checks_status=$?
echo "[test] type check and lint (tsc, ESLint, layers, Prettier, OpenAPI): $([ "$checks_status" = 0 ] && echo passed || echo FAILED)" >&2
[ "$checks_status" = 0 ] || { cat "$checks_log" >&2; status=1; }
exit "$status"
