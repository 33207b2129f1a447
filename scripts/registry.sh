#!/usr/bin/env bash
# Ensure a local image registry (Debian's docker-registry = distribution registry v2) serves
# http://127.0.0.1:5000, storing under /var/lib/minikube-lite/registry. Idempotent.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REG_DIR="$MKL_STATE_DIR/registry"
CONFIG="$REG_DIR/config.yml"
PIDFILE="$REG_DIR/registry.pid"
LOGFILE="$REG_DIR/registry.log"
START_TIMEOUT=30

need_root

registry_up() { curl -fsS --max-time 2 -o /dev/null "http://${MKL_REGISTRY_ADDR}/v2/"; }

if registry_up 2>/dev/null; then
  log "registry running on ${MKL_REGISTRY_ADDR}"
  exit 0
fi

pkgs=()
command -v docker-registry >/dev/null 2>&1 || pkgs+=(docker-registry)
command -v curl >/dev/null 2>&1 || pkgs+=(curl)
if ((${#pkgs[@]})); then
  log "installing ${pkgs[*]}"
  ensure_packages "${pkgs[@]}"
fi

mkdir -p "$REG_DIR/data"
config=$(cat <<EOF
# Written by scripts/registry.sh (minikube-lite); rewritten on every start.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: ${MKL_REGISTRY_ADDR}
  secret: minikube-lite-local-registry
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
EOF
)
if [[ ! -f $CONFIG ]] || [[ $(<"$CONFIG") != "$config" ]]; then
  printf '%s\n' "$config" >"$CONFIG"
fi

# A registry we started earlier that no longer answers (e.g. hung): replace it.
if [[ -r $PIDFILE ]]; then
  pid=$(<"$PIDFILE")
  if proc_alive "$pid" docker-registry; then
    if wait_for 5 registry_up; then
      log "registry running on ${MKL_REGISTRY_ADDR}"
      exit 0
    fi
    log "restarting unresponsive registry (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 10 eval "! proc_alive $pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$PIDFILE"
fi

log "starting registry on ${MKL_REGISTRY_ADDR} (log: $LOGFILE)"
# setsid: own session, so the registry outlives this script and the shell that ran it.
setsid docker-registry serve "$CONFIG" >>"$LOGFILE" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$PIDFILE"

deadline=$((SECONDS + START_TIMEOUT))
until registry_up 2>/dev/null; do
  if ! proc_alive "$pid"; then
    tail -n 20 "$LOGFILE" >&2 || true
    die "registry exited during startup (see $LOGFILE; is ${MKL_REGISTRY_ADDR} in use?)"
  fi
  ((SECONDS < deadline)) || die "registry did not answer on ${MKL_REGISTRY_ADDR} within ${START_TIMEOUT} s (see $LOGFILE)"
  sleep 0.2
done
log "registry running on ${MKL_REGISTRY_ADDR}"
