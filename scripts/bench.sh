#!/usr/bin/env bash
# `npm run bench [-- PART… --quick --cpu-prof]`: the benchmark (src/bench). Prepares what the
# selected parts need, builds, then runs dist/bench/main.js, which prints a table and writes JSON
# under bench/results/.
#   - Docker parts (startup, pods, scaleout, footprint, services): the engine, local registry and offline
#     images (scripts/setup.sh, idempotent).
#   - scaleout: Debian's docker-compose, installed when missing (the peer it is compared with).
#   - scheduler, apiserver: simulated, no Docker needed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

parts=()
skip_value=0
for a in "$@"; do
  if ((skip_value)); then skip_value=0; continue; fi
  case $a in
    --out) skip_value=1 ;;
    -*) ;;
    *) parts+=("$a") ;;
  esac
done
wants() { # true when part $1 is selected (no part named = all)
  local p
  ((${#parts[@]} == 0)) && return 0
  for p in "${parts[@]}"; do [[ $p == "$1" ]] && return 0; done
  return 1
}

if wants startup || wants pods || wants scaleout || wants footprint || wants services; then
  bash scripts/setup.sh
fi
if wants scaleout && ! command -v docker-compose >/dev/null 2>&1; then
  need_root
  ensure_packages docker-compose
fi
bash scripts/build.sh
exec node dist/bench/main.js "$@"
