#!/usr/bin/env bash
# Lints the OpenAPI description the service serves (scripts/openapi-json.ts; extra arguments are
# blueprint modules to describe too) with Redocly's recommended rules. The exceptions recorded in
# .redocly.lint-ignore.yaml go along with it: Redocly reads them beside the file it lints.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$root/node_modules/.bin/tsx" "$root/scripts/openapi-json.ts" "$@" > "$dir/openapi.json"
cp "$root/.redocly.lint-ignore.yaml" "$dir/"
cd "$dir"
"$root/node_modules/.bin/redocly" lint --extends=recommended openapi.json
