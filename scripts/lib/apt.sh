# Shared by the ensure-*.sh scripts; expects a log() function.
# Installs Debian packages without starting their services (policy-rc.d 101 = "do not start"),
# refreshing the package index only when the install fails without it.
apt_install() {
  local created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  local rc=0
  { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
    { log "apt-get install failed; updating the package index and retrying"
      apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; }; } || rc=$?
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  return "$rc"
}
