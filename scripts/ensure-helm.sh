#!/usr/bin/env bash
# Makes the pinned Helm CLI available and prints the directory that holds it (the chart's tests use it).
# Order: PATH (right version) -> cache -> official release (internet) -> build from Go modules -> stop with advice.
# Every step is idempotent; the cache lives outside the repo so clean clones reuse it.
set -euo pipefail

VERSION="${HELM_VERSION:-3.22.0}"
CACHE_ROOT="${CLUSTERD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterd}"
DEST="$CACHE_ROOT/helm-v$VERSION"
log() { echo "[ensure-helm] $*" >&2; }

has_version() { [ -x "$1" ] && "$1" version --template '{{.Version}}' 2>/dev/null | grep -qx "v$VERSION"; }

if command -v helm >/dev/null 2>&1 && has_version "$(command -v helm)"; then
  dirname "$(command -v helm)"; exit 0
fi
if has_version "$DEST/helm"; then echo "$DEST"; exit 0; fi
mkdir -p "$DEST"
# Two set-ups at once must not both build into the same directory; the second finds the first's helm.
exec 9>"$DEST.lock"
flock 9
if has_version "$DEST/helm"; then echo "$DEST"; exit 0; fi

try_release() {
  local arch
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) arch=amd64 ;;
    Linux-aarch64) arch=arm64 ;;
    *) return 1 ;;
  esac
  command -v curl >/dev/null || return 1
  local url="https://get.helm.sh/helm-v$VERSION-linux-$arch.tar.gz"
  local tmp; tmp="$(mktemp -d)"
  # A short connect timeout: offline machines refuse or hang here, and the Go build follows.
  if curl -fsSL --connect-timeout 5 --max-time 300 "$url" -o "$tmp/h.tgz" 2>/dev/null \
    && curl -fsSL --connect-timeout 5 --max-time 30 "$url.sha256sum" -o "$tmp/h.sha256" 2>/dev/null \
    && [ "$(sha256sum "$tmp/h.tgz" | cut -d' ' -f1)" = "$(cut -d' ' -f1 "$tmp/h.sha256")" ] \
    && tar -xzf "$tmp/h.tgz" -C "$tmp" && cp "$tmp/linux-$arch/helm" "$DEST/helm.partial"; then
    rm -rf "$tmp"; mv -f "$DEST/helm.partial" "$DEST/helm"
  else
    rm -rf "$tmp" "$DEST/helm.partial"; return 1
  fi
}

try_go_build() {
  command -v go >/dev/null || return 1
  local mod="$CACHE_ROOT/helm-build-v$VERSION"
  mkdir -p "$mod"
  # With helm as the only requirement, minimal version selection picks exactly the versions of helm's own go.mod.
  cat >"$mod/go.mod" <<GOMOD
module clusterd.local/helm-cli

go 1.26

require helm.sh/helm/v3 v$VERSION
GOMOD
  cat >"$mod/tools.go" <<'GOSRC'
//go:build tools

package tools

import _ "helm.sh/helm/v3/cmd/helm"
GOSRC
  # Built to a side name and moved into place, so an interrupted build never leaves a half-written helm.
  (
    cd "$mod" || exit 1
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    go mod tidy -e >/dev/null 2>&1 || true
    kube="$(go list -m -f '{{.Version}}' k8s.io/client-go)" || exit 1
    go build -trimpath -ldflags "-s -w $(version_flags "$kube")" -o "$DEST/helm.partial" helm.sh/helm/v3/cmd/helm
  ) && mv -f "$DEST/helm.partial" "$DEST/helm"
}

# What helm's Makefile sets: its version, and the Kubernetes version `helm template` and `helm lint`
# assume, from client-go's (v0.35.1 -> 1.35); without the latter they assume 1.20.
version_flags() {
  local minor; minor="$(echo "$1" | cut -d. -f2)"
  local pkg
  echo -n "-X helm.sh/helm/v3/internal/version.version=v$VERSION"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    echo -n " -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
}

if try_release; then log "installed the official release v$VERSION"
else
  log "no release download; building v$VERSION from Go modules (one to two minutes the first time)"
  if ! try_go_build; then
    rm -f "$DEST/helm.partial"
    log "could not get the Helm CLI v$VERSION. Install it yourself (https://helm.sh/docs/intro/install/) and put it on PATH, or install Go >= 1.26 so that it can be built."
    exit 1
  fi
fi
has_version "$DEST/helm" || { log "the helm in $DEST does not report v$VERSION"; exit 1; }
echo "$DEST"
