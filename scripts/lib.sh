# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file)
# Shared helpers for the minikube-lite setup scripts. Source it, don't run it.

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

MKL_STATE_DIR="${MKL_STATE_DIR:-/var/lib/minikube-lite}"
MKL_REGISTRY_ADDR="${MKL_REGISTRY_ADDR:-127.0.0.1:5000}"
MKL_MIRROR_URL="http://${MKL_REGISTRY_ADDR}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "$(basename "$0") must run as root"
}

# Print the packages among "$@" that dpkg does not report as installed.
missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
      printf '%s\n' "$p"
    fi
  done
}

# Install the missing ones among "$@" with apt. `apt-get update` runs at most once per
# setup run (MKL_APT_UPDATED is exported so child scripts see it), and only when
# something is actually missing.
ensure_packages() {
  local missing
  missing=$(missing_packages "$@")
  [[ -n $missing ]] || return 0
  # shellcheck disable=SC2086
  set -- $missing
  export DEBIAN_FRONTEND=noninteractive
  if [[ ${MKL_APT_UPDATED:-0} != 1 ]]; then
    log "apt-get update"
    apt-get update -qq >&2
    export MKL_APT_UPDATED=1
  fi
  log "installing $*"
  apt-get install -y -qq "$@" >&2
}

# True when process $1 exists, is not a zombie, and (if $2 is given) is named $2.
# (A daemon killed with SIGKILL whose parent does not reap it stays a zombie, which
# `kill -0` still reports as alive.)
proc_alive() {
  local pid=$1 name=${2:-} state
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/status ]] || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]] || return 1
  [[ -z $name || $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]
}

# Debian codename of this machine (bookworm, trixie, ...).
debian_codename() {
  local c=""
  if [[ -r /etc/os-release ]]; then
    c=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
  fi
  printf '%s' "${c:-bookworm}"
}

# Wait until "${@:2}" succeeds, for at most $1 seconds; returns 1 on timeout.
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.25
  done
}
