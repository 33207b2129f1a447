#!/usr/bin/env bash
# Ensure the Docker engine runs, with the local registry (127.0.0.1:5000) as registry mirror.
# Idempotent: returns in a fraction of a second when dockerd already runs with the mirror.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DAEMON_JSON=/etc/docker/daemon.json
PIDFILE=/var/run/docker.pid
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
LOGFILE=/var/log/dockerd.log
START_TIMEOUT=60

need_root

# Mirrors of the running daemon as JSON; fails when the daemon does not answer.
daemon_mirrors() { docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null; }
mirror_active() { local m; m=$(daemon_mirrors) && [[ $m == *"${MKL_REGISTRY_ADDR}"* ]]; }

if [[ ${MKL_ENGINE_RESTART:-0} != 1 ]] && mirror_active && grep -qF "\"${MKL_MIRROR_URL}\"" "$DAEMON_JSON" 2>/dev/null; then
  log "docker engine running (mirror ${MKL_MIRROR_URL})"
  exit 0
fi

# --- packages ------------------------------------------------------------------------------
pkgs=()
command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
command -v iptables >/dev/null 2>&1 || pkgs+=(iptables)
if ((${#pkgs[@]})); then
  log "installing docker engine"
  ensure_packages "${pkgs[@]}"
fi
command -v docker >/dev/null 2>&1 || die "no docker client after installing docker.io"

# --- /etc/docker/daemon.json ---------------------------------------------------------------
# Adds MKL_MIRROR_URL to "registry-mirrors", keeping every other setting.
# Prints "changed" or "unchanged".
merge_daemon_json() {
  mkdir -p "$(dirname "$DAEMON_JSON")"
  if [[ ! -s $DAEMON_JSON ]] || ! grep -q '[^[:space:]]' "$DAEMON_JSON"; then
    printf '{\n  "registry-mirrors": ["%s"]\n}\n' "$MKL_MIRROR_URL" >"$DAEMON_JSON"
    echo changed
    return
  fi
  local tmp="${DAEMON_JSON}.tmp.$$"
  if command -v jq >/dev/null 2>&1; then
    if jq -e --arg m "$MKL_MIRROR_URL" '(.["registry-mirrors"] // []) | index($m) != null' \
      "$DAEMON_JSON" >/dev/null; then
      echo unchanged
      return
    fi
    jq --arg m "$MKL_MIRROR_URL" '.["registry-mirrors"] = ((.["registry-mirrors"] // []) + [$m])' \
      "$DAEMON_JSON" >"$tmp"
  elif command -v python3 >/dev/null 2>&1; then
    local r
    r=$(python3 - "$DAEMON_JSON" "$MKL_MIRROR_URL" "$tmp" <<'EOF'
import json, sys
path, mirror, tmp = sys.argv[1:4]
with open(path) as f:
    cfg = json.load(f)
mirrors = cfg.setdefault("registry-mirrors", [])
if mirror in mirrors:
    print("unchanged")
else:
    mirrors.append(mirror)
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print("changed")
EOF
)
    if [[ $r == unchanged ]]; then echo unchanged; return; fi
  elif command -v node >/dev/null 2>&1; then
    local r
    r=$(node -e '
      const fs = require("fs");
      const [path, mirror, tmp] = process.argv.slice(1);
      const cfg = JSON.parse(fs.readFileSync(path, "utf8"));
      const m = (cfg["registry-mirrors"] ||= []);
      if (m.includes(mirror)) { console.log("unchanged"); }
      else { m.push(mirror); fs.writeFileSync(tmp, JSON.stringify(cfg, null, 2) + "\n"); console.log("changed"); }
    ' "$DAEMON_JSON" "$MKL_MIRROR_URL" "$tmp")
    if [[ $r == unchanged ]]; then echo unchanged; return; fi
  else
    die "$DAEMON_JSON exists and neither jq, python3 nor node is available to merge it"
  fi
  mv -f "$tmp" "$DAEMON_JSON"
  echo changed
}

# --- dockerd process -----------------------------------------------------------------------
# PID of the running dockerd, or nothing.
dockerd_pid() {
  local pid=""
  if [[ -r $PIDFILE ]]; then
    pid=$(<"$PIDFILE")
    if proc_alive "$pid" dockerd; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  for pid in $(pgrep -x dockerd 2>/dev/null || true); do
    if proc_alive "$pid" dockerd; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
}

# Waits until `docker info` answers. Returns 2 if dockerd $1 exits first; dies on timeout.
wait_for_daemon() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  until docker info >/dev/null 2>&1; do
    if ! proc_alive "$pid"; then
      return 2
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$LOGFILE" >&2 || true
      die "docker engine did not answer 'docker info' within ${START_TIMEOUT} s (see $LOGFILE)"
    fi
    sleep 0.25
  done
}

start_dockerd() {
  if [[ -e $PIDFILE ]]; then
    log "removing stale $PIDFILE"
    rm -f "$PIDFILE"
  fi
  # dockerd reuses the containerd named in this file while `kill -0` accepts its PID, which
  # a killed-but-unreaped (zombie) containerd still does: it then waits for a socket nobody
  # serves and gives up ("timeout waiting for containerd to start").
  local cpid
  if [[ -r $CONTAINERD_PIDFILE ]]; then
    cpid=$(<"$CONTAINERD_PIDFILE")
    if ! proc_alive "$cpid" containerd; then
      rm -f "$CONTAINERD_PIDFILE"
    fi
  fi
  log "starting dockerd (log: $LOGFILE)"
  mkdir -p "$(dirname "$LOGFILE")"
  # setsid: own session, so dockerd outlives this script and the shell that ran it.
  setsid dockerd >>"$LOGFILE" 2>&1 </dev/null &
  local pid=$!
  if ! wait_for_daemon "$pid"; then
    tail -n 20 "$LOGFILE" >&2 || true
    die "dockerd exited during startup (see $LOGFILE)"
  fi
}

stop_dockerd() {
  local pid=$1 deadline=$((SECONDS + 60))
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while proc_alive "$pid"; do
    ((SECONDS < deadline)) || die "dockerd (pid $pid) did not stop within 60 s"
    sleep 0.25
  done
}

changed=$(merge_daemon_json)
[[ $changed == changed ]] && log "registry mirror ${MKL_MIRROR_URL} added to $DAEMON_JSON"

pid=$(dockerd_pid)
if [[ -n $pid && ${MKL_ENGINE_RESTART:-0} == 1 ]]; then
  # Asked for a restart (the chaos suite's engine-restart case): every container stops with it.
  stop_dockerd "$pid"
  pid=""
fi
if [[ -z $pid ]]; then
  start_dockerd
else
  # Running (or still starting): let it answer first.
  if ! wait_for_daemon "$pid"; then
    log "dockerd (pid $pid) exited"
    start_dockerd
  elif ! mirror_active; then
    # registry-mirrors is a live-reloadable option: try SIGHUP before a full restart,
    # which would stop every running container.
    log "reloading dockerd configuration"
    kill -HUP "$pid" 2>/dev/null || true
    if ! wait_for 10 mirror_active; then
      stop_dockerd "$pid"
      start_dockerd
    fi
  fi
fi

mirror_active || die "dockerd runs but does not use the registry mirror ${MKL_MIRROR_URL} (check $DAEMON_JSON)"
log "docker engine running (mirror ${MKL_MIRROR_URL})"
