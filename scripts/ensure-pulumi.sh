#!/usr/bin/env bash
# Makes the pinned Pulumi CLI available and prints the directory that holds it.
# Order: PATH (right version) -> cache -> official release (internet) -> build from Go modules -> stop with advice.
# Every step is idempotent; the cache lives outside the repo so clean clones reuse it.
set -euo pipefail

VERSION="${PULUMI_VERSION:-3.259.0}"
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
DEST="$CACHE_ROOT/pulumi-v$VERSION"
log() { echo "[ensure-pulumi] $*" >&2; }

has_version() { [ -x "$1" ] && "$1" version 2>/dev/null | grep -qx "v$VERSION"; }

if command -v pulumi >/dev/null 2>&1 && has_version "$(command -v pulumi)"; then
  dirname "$(command -v pulumi)"; exit 0
fi
if has_version "$DEST/pulumi"; then echo "$DEST"; exit 0; fi
mkdir -p "$DEST"

try_release() {
  local url="https://get.pulumi.com/releases/sdk/pulumi-v$VERSION-linux-x64.tar.gz"
  [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || return 1
  command -v curl >/dev/null || return 1
  local tmp; tmp="$(mktemp -d)"
  # A short connect timeout: offline machines refuse or hang here, and the Go build follows.
  curl -fsSL --connect-timeout 5 --max-time 300 "$url" -o "$tmp/p.tgz" 2>/dev/null || { rm -rf "$tmp"; return 1; }
  tar -xzf "$tmp/p.tgz" -C "$tmp" && cp "$tmp"/pulumi/pulumi "$DEST/pulumi" && rm -rf "$tmp"
}

try_go_build() {
  command -v go >/dev/null || return 1
  local mod="$CACHE_ROOT/pulumi-build-v$VERSION"
  mkdir -p "$mod"
  cat >"$mod/go.mod" <<GOMOD
module clusterd.local/pulumi-cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$VERSION
	github.com/pulumi/pulumi/sdk/v3 v$VERSION
)

// pkg's own go.mod replaces sdk with a relative path (useless outside its repo) and
// pins a clipboard fork; only the latter matters to a consumer.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
  cat >"$mod/tools.go" <<'GOSRC'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOSRC
  ( cd "$mod" && export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
      && go mod tidy -e >/dev/null 2>&1 || true
    cd "$mod" && GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION" \
      -o "$DEST/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi )
}

if try_release; then log "installed the official release v$VERSION"
else
  log "no release download; building v$VERSION from Go modules (several minutes the first time)"
  if ! try_go_build; then
    log "could not get the Pulumi CLI v$VERSION. Install it yourself (https://www.pulumi.com/docs/install/) and put it on PATH, or install Go >= 1.25 so that it can be built."
    exit 1
  fi
fi
has_version "$DEST/pulumi" || { log "built binary does not report v$VERSION"; exit 1; }
echo "$DEST"
