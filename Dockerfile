# clusterd's image: the release bundle (scripts/release-bundle.mjs) on Node's Debian slim image, with
# the pinned Pulumi CLI and the provider plugins of the built-in blueprints installed at build time,
# so that nothing is downloaded at run time. Runs as uid 10001 on a read-only root file system; the
# writable paths are the VOLUMEs below and /dev/shm. See docs/deploying.md ("The image").
#
#   docker build -t clusterd:0.1.0 .
#   docker run --read-only -p 8080:8080 -v clusterd-data:/var/lib/clusterd \
#     -e REDIS_URL=redis://redis:6379 clusterd:0.1.0
#
# The versions are checked against package.json, scripts/node-version and scripts/ensure-pulumi.sh
# by test/deploy/release-bundle.pulumi.test.ts, which also builds the bundle as the build stage does.

# Node 24 LTS, the version the service is tested on (scripts/node-version).
ARG NODE_VERSION=24.19.0
# The CLI of the @pulumi/pulumi in package.json (scripts/ensure-pulumi.sh).
ARG PULUMI_VERSION=3.259.0

# ---- build: the release bundle, made as the bundle test makes it ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: npm 11 calls this lockfile out of sync (some other platforms' optional
# packages are missing from it, see scripts/ensure-deps.sh); the lockfile's versions are kept, and the
# bundle script checks every package it takes against it. No install script is needed: esbuild runs
# from its platform package, and the production packages' scripts are not needed (release-bundle.mjs).
RUN npm install --no-audit --no-fund --ignore-scripts --loglevel=error
COPY . .
RUN node scripts/build.mjs && node scripts/release-bundle.mjs /release --no-build

# ---- pulumi: the CLI and the provider plugins ----
FROM node:${NODE_VERSION}-bookworm-slim AS pulumi
ARG PULUMI_VERSION
# SHA-256 of pulumi-v<version>-linux-<x64|arm64>.tar.gz. Empty: taken from the release's own
# checksums file (the same server, so it guards against a broken download, not a forged one); pass it
# to pin the archive you reviewed.
ARG PULUMI_SHA256=""
# The plugins of the built-in blueprints, at the versions of their SDKs in package.json (eks is a
# component provider: it runs in its own plugin and declares aws and kubernetes resources itself).
ARG PULUMI_PLUGINS="aws:7.48.0 eks:4.3.0 gcp:9.37.0 kubernetes:4.34.2"
# Optional SHA-256 of the plugin archives, as name=sha256 separated by spaces (`pulumi plugin install --checksum`).
ARG PULUMI_PLUGIN_SHA256=""
# Set by BuildKit for the platform being built (amd64, arm64).
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's versions, not pinned: a point release replaces them in the archive, and a pin would then fail the build.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl \
  && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
  case "${TARGETARCH:-amd64}" in amd64) arch=x64 ;; arm64) arch=arm64 ;; *) echo "no Pulumi CLI for ${TARGETARCH}" >&2; exit 1 ;; esac; \
  archive="pulumi-v${PULUMI_VERSION}-linux-${arch}.tar.gz"; \
  curl -fsSL -o "/tmp/${archive}" "https://get.pulumi.com/releases/sdk/${archive}"; \
  sum="${PULUMI_SHA256}"; \
  if [ -z "${sum}" ]; then \
    sum="$(curl -fsSL "https://get.pulumi.com/releases/sdk/pulumi-${PULUMI_VERSION}-checksums.txt" | awk -v f="${archive}" '$2 == f { print $1 }')"; \
  fi; \
  echo "${sum}  /tmp/${archive}" | sha256sum -c -; \
  tar -xzf "/tmp/${archive}" -C /tmp; \
  install -D -m 0755 /tmp/pulumi/pulumi /opt/pulumi/bin/pulumi; \
  rm -rf /tmp/pulumi "/tmp/${archive}"; \
  /opt/pulumi/bin/pulumi version | grep -qx "v${PULUMI_VERSION}"
# Only the `pulumi` binary is kept (as scripts/ensure-pulumi.sh does): the service brings its own
# launchers for dynamic providers and Node policy packs (src/engine/*-launcher.ts).
ENV PULUMI_HOME=/home/clusterd/.pulumi PULUMI_SKIP_UPDATE_CHECK=true
# The service points the CLI's PULUMI_HOME at its data directory (a volume), so the CLI never looks
# in this plugin directory: each plugin is linked into /opt/pulumi/bin instead, which is on PATH, and
# the CLI takes a plugin found on PATH before any other (an "ambient" plugin, whatever the version
# asked for, which also serves the aws and kubernetes versions the eks component asks for).
RUN set -eu; \
  for plugin in ${PULUMI_PLUGINS}; do \
    name="${plugin%%:*}"; version="${plugin#*:}"; sum=""; \
    for entry in ${PULUMI_PLUGIN_SHA256}; do if [ "${entry%%=*}" = "${name}" ]; then sum="${entry#*=}"; fi; done; \
    /opt/pulumi/bin/pulumi plugin install resource "${name}" "${version}" --exact ${sum:+--checksum "${sum}"}; \
    binary="${PULUMI_HOME}/plugins/resource-${name}-v${version}/pulumi-resource-${name}"; \
    test -x "${binary}" || { echo "plugin ${name} ${version} has no executable ${binary}" >&2; exit 1; }; \
    ln -s "${binary}" "/opt/pulumi/bin/pulumi-resource-${name}"; \
  done; \
  rm -rf "${PULUMI_HOME}/logs" "${PULUMI_HOME}/workspaces"

# ---- the image ----
FROM node:${NODE_VERSION}-bookworm-slim
# tini as PID 1 reaps the orphans of killed job processes (the CLI's plugins), which Node as PID 1
# would leave as zombies, and passes SIGTERM on to Node, whose handlers (src/main.ts) shut the
# service down in order. ca-certificates: the CLI and the plugins are Go programs that read the
# system's CA bundle (Node has its own). flock (util-linux) comes with Debian. Not pinned, as above.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates tini \
  && rm -rf /var/lib/apt/lists/* \
  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
  && groupadd --gid 10001 clusterd \
  && useradd --uid 10001 --gid 10001 --home-dir /home/clusterd --create-home --shell /usr/sbin/nologin clusterd \
  && install -d -o clusterd -g clusterd -m 0700 /var/lib/clusterd \
  && install -d -m 0755 /app/blueprints
# Root-owned: the service's user cannot change its code, the CLI or the plugins.
COPY --from=pulumi /opt/pulumi /opt/pulumi
COPY --from=pulumi /home/clusterd/.pulumi/plugins /home/clusterd/.pulumi/plugins
# /app/blueprints: where to mount operator blueprint modules (JavaScript: the image has no tsx), so that
# their imports of @pulumi/pulumi and zod resolve to /app/node_modules, the service's own copies.
COPY --from=build /release /app
WORKDIR /app
ENV NODE_ENV=production \
  HOME=/home/clusterd \
  HOST=0.0.0.0 \
  PORT=8080 \
  CLUSTERD_DATA_DIR=/var/lib/clusterd \
  PATH=/opt/pulumi/bin:${PATH} \
  PULUMI_SKIP_UPDATE_CHECK=true \
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The writable paths: the data directory (embedded records, the file:// state backend, the
# passphrase, the records key, the CLI's PULUMI_HOME with its workspaces and logs, the plugin
# launchers, Node's compile cache) and /tmp. /dev/shm (the passphrase file) is a tmpfs of its own.
VOLUME ["/var/lib/clusterd", "/tmp"]
USER 10001:10001
EXPOSE 8080
# Node's fetch: slim images have no curl. METRICS_PORT, where set, serves /healthz in every role.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=4", "dist/src/main.js"]
