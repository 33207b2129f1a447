#!/usr/bin/env bash
# Ensure the Docker engine runs, with the local registry (127.0.0.1:5000) as registry mirror.
# Idempotent: returns in a fraction of a second when dockerd already runs with the mirror.
#
#   MKL_ENGINE_RESTART=1       stop dockerd (SIGTERM, as `systemctl restart docker` does) and start it again
#   MKL_ENGINE_DIR=/run/NAME   a private engine instead of the machine's: its own dockerd and
#                              containerd, socket NAME/docker.sock (DOCKER_HOST=unix://…),
#                              exec root NAME/exec, data root MKL_ENGINE_DATA_ROOT (default
#                              /var/lib/mkl-engine/NAME), no default bridge, no iptables rules.
#                              For tests that restart an engine without disturbing the machine's.
#   MKL_ENGINE_DELETE=1        (with MKL_ENGINE_DIR only) stop the private engine and delete its
#                              roots and mounts
#
# Before dockerd starts, mounts that a previous dockerd left under its data and exec roots are
# unmounted (see clean_stale_mounts): without that, containers created while it shut down keep
# their overlay mounts hidden under the new dockerd's bind mount of its root and can never be
# removed ("Removal In Progress", "unlinkat …/merged: device or resource busy").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DAEMON_JSON=/etc/docker/daemon.json
PIDFILE=/var/run/docker.pid
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
LOGFILE=/var/log/dockerd.log
DATA_ROOT=/var/lib/docker
EXEC_ROOT=/var/run/docker
DOCKERD_ARGS=()
START_TIMEOUT=60
PRIVATE=${MKL_ENGINE_DIR:-}

need_root

if [[ -n $PRIVATE ]]; then
  [[ $PRIVATE == /* && $PRIVATE != / ]] || die "MKL_ENGINE_DIR must be an absolute directory, not '$PRIVATE'"
  DAEMON_JSON=$PRIVATE/daemon.json
  PIDFILE=$PRIVATE/docker.pid
  EXEC_ROOT=$PRIVATE/exec
  CONTAINERD_PIDFILE=$EXEC_ROOT/containerd/containerd.pid
  LOGFILE=$PRIVATE/dockerd.log
  DATA_ROOT=${MKL_ENGINE_DATA_ROOT:-/var/lib/mkl-engine/$(basename "$PRIVATE")}
  export DOCKER_HOST=unix://$PRIVATE/docker.sock
  DOCKERD_ARGS=(--config-file "$DAEMON_JSON" --host "$DOCKER_HOST" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT"
    --pidfile "$PIDFILE" --bridge none --iptables=false --ip-masq=false)
  mkdir -p "$PRIVATE" "$DATA_ROOT"
fi

# Mirrors of the running daemon as JSON; fails when the daemon does not answer.
daemon_mirrors() { docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null; }
mirror_active() { local m; m=$(daemon_mirrors) && [[ $m == *"${MKL_REGISTRY_ADDR}"* ]]; }

if [[ ${MKL_ENGINE_RESTART:-0} != 1 && ${MKL_ENGINE_DELETE:-0} != 1 ]] && mirror_active && grep -qF "\"${MKL_MIRROR_URL}\"" "$DAEMON_JSON" 2>/dev/null; then
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
  # A private engine is known by its pid file only: any other dockerd is not ours.
  [[ -z $PRIVATE ]] || return 0
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
  clean_stale_mounts
  log "starting dockerd${PRIVATE:+ (private engine $DOCKER_HOST)} (log: $LOGFILE)"
  mkdir -p "$(dirname "$LOGFILE")"
  # setsid: own session, so dockerd outlives this script and the shell that ran it.
  setsid dockerd "${DOCKERD_ARGS[@]}" >>"$LOGFILE" 2>&1 </dev/null &
  local pid=$!
  if ! wait_for_daemon "$pid"; then
    tail -n 20 "$LOGFILE" >&2 || true
    die "dockerd exited during startup (see $LOGFILE)"
  fi
}

# Mount points under the engine's data and exec roots, deepest first (the roots themselves last).
engine_mounts() {
  local root
  for root in "$@"; do
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo
  done | sort -ru
}

# Unmounts what a dockerd that is no longer running left under its roots; call it only while
# no dockerd of these roots runs. Docker 20.10 makes its data root a shared bind mount of
# itself and, on shutdown, unmounts its containers' overlays and then that bind (MNT_DETACH).
# A container created or started during the shutdown (a request on a connection the daemon
# still served) mounts its overlay after that, on the directory beneath; the next dockerd's bind
# mount then hides it, and removing the container fails for good ("Removal In Progress",
# "unlinkat …/merged: device or resource busy"). Unmounting the stale bind first makes such
# mounts visible, hence the passes. With live-restore containers outlive dockerd: nothing is
# touched then.
clean_stale_mounts() {
  if grep -qE '"live-restore"[[:space:]]*:[[:space:]]*true' "$DAEMON_JSON" 2>/dev/null; then
    return 0
  fi
  local roots=() r pass m n=0 mounts
  for r in "$DATA_ROOT" "$EXEC_ROOT"; do
    [[ -e $r ]] && roots+=("$(realpath "$r")")
  done
  ((${#roots[@]})) || return 0
  for pass in 1 2 3 4; do
    mounts=$(engine_mounts "${roots[@]}")
    [[ -n $mounts ]] || break
    while IFS= read -r m; do
      if umount "$m" 2>/dev/null; then n=$((n + 1)); fi
    done <<<"$mounts"
  done
  mounts=$(engine_mounts "${roots[@]}")
  if [[ -n $mounts ]]; then
    log "warning: could not unmount under ${roots[*]}: $(tr '\n' ' ' <<<"$mounts")"
  fi
  if ((n > 0)); then log "unmounted $n mount(s) the previous dockerd left under ${roots[*]}"; fi
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

if [[ -n $PRIVATE ]]; then
  # The private engine's own configuration: only the registry mirror.
  [[ -s $DAEMON_JSON ]] || printf '{\n  "registry-mirrors": ["%s"]\n}\n' "$MKL_MIRROR_URL" >"$DAEMON_JSON"
  if [[ ${MKL_ENGINE_DELETE:-0} == 1 ]]; then
    pid=$(dockerd_pid)
    if [[ -n $pid ]]; then stop_dockerd "$pid"; fi
    clean_stale_mounts
    rm -rf "$DATA_ROOT" "$PRIVATE"
    log "private engine $PRIVATE deleted (data root $DATA_ROOT)"
    exit 0
  fi
else
  changed=$(merge_daemon_json)
  [[ $changed == changed ]] && log "registry mirror ${MKL_MIRROR_URL} added to $DAEMON_JSON"
fi

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
