#!/usr/bin/env bash
# Makes the pinned schemathesis (the API fuzzer of test/api/openapi-fuzz.redis.test.ts) available and
# prints the path of its `st` executable (nothing else on stdout).
# It lives in a virtualenv in the cache dir outside the repo, so clean clones reuse it. Idempotent: the
# virtualenv is made again only when scripts/schemathesis-requirements.txt (schemathesis and every
# package it installs, pinned) changed since it was made. Needs Python >= 3.10 and PyPI.
set -euo pipefail
cd "$(dirname "$0")"

REQUIREMENTS="$PWD/schemathesis-requirements.txt"
VERSION="$(sed -n 's/^schemathesis==//p' "$REQUIREMENTS")"
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
DEST="$CACHE_ROOT/schemathesis-$VERSION"
ST="$DEST/bin/st"
# Written last: a virtualenv without it was cut short and is made again.
STAMP="$DEST/.clusterd-requirements.sha256"
log() { echo "[ensure-schemathesis] $*" >&2; }

want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
# The stamp is written only after the version was checked, so the (slow) `st --version` runs once.
ready() { [ -x "$ST" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; }

if ready; then echo "$ST"; exit 0; fi
mkdir -p "$CACHE_ROOT"
# Two test runs at once must not both build the same virtualenv.
exec 9>"$DEST.lock"
flock 9
if ready; then echo "$ST"; exit 0; fi

# shellcheck source=lib/apt.sh
source lib/apt.sh
PYTHON="$(command -v python3 || true)"
if [ -z "$PYTHON" ]; then
  log "installing python3 with apt"
  apt_install python3 python3-venv
  PYTHON="$(command -v python3)"
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { log "schemathesis $VERSION needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1)"; exit 1; }

rm -rf "$DEST"
# Debian's python3 has no ensurepip (so no venv) without python3-venv.
if ! "$PYTHON" -m venv "$DEST" >&2 2>/dev/null; then
  log "installing python3-venv with apt"
  rm -rf "$DEST"
  apt_install python3-venv
  "$PYTHON" -m venv "$DEST" >&2
fi
log "installing schemathesis $VERSION into $DEST"
"$DEST/bin/pip" install --disable-pip-version-check --no-input --quiet --no-deps --requirement "$REQUIREMENTS" >&2
# --no-deps installs exactly the list; check that it is complete and consistent.
"$DEST/bin/pip" check --disable-pip-version-check >&2
"$ST" --version 2>/dev/null | grep -qx "st, version $VERSION" || { log "$ST does not report version $VERSION"; exit 1; }
echo "$want" >"$STAMP"
echo "$ST"
