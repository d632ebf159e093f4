#!/usr/bin/env bash
# Benchmarks (not part of the tests): sets up like the tests, then prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
PATH="$(bash scripts/ensure-pulumi.sh):$PATH"
export PATH
TEST_REDIS_URL="$(REDIS_PORT="${TEST_REDIS_PORT:-6381}" bash scripts/ensure-redis.sh)"
TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash scripts/ensure-postgres.sh)}"
export TEST_REDIS_URL TEST_DATABASE_URL
exec node --import tsx bench/run.ts
