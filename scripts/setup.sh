#!/usr/bin/env bash
# Prepare this machine for minikube-lite: Docker engine (with the local registry as docker.io
# mirror), the local registry on 127.0.0.1:5000, and the offline-built images.
# Idempotent: on a machine that already has everything it finishes in about a second.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$SECONDS

# Every apt package the three steps need, installed in one go (one `apt-get update` at most,
# and none when nothing is missing). dockerd/iptables may come from elsewhere (docker-ce):
# only ask for docker.io when there is no dockerd at all.
# python3-kubernetes and ruby-kubeclient: the Python and Ruby clients the tests drive
# (clients.e2e.test.ts, clients.ruby.test.ts).
pkgs=(mmdebstrap docker-registry busybox-static gcc libc6-dev curl python3-kubernetes ruby-kubeclient)
command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
command -v iptables >/dev/null 2>&1 || pkgs+=(iptables)
# Headless Chromium for the dashboard's browser test (driven by playwright-core, which downloads
# nothing): Debian's own package, when the archive has one.
if [[ ! -x /usr/bin/chromium ]] && apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then pkgs+=(chromium); fi
ensure_packages "${pkgs[@]}"

bash "$dir/engine.sh"
bash "$dir/registry.sh"
bash "$dir/images.sh"
log "setup done in $((SECONDS - start)) s"
