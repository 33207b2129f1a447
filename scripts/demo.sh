#!/usr/bin/env bash
# One command from a fresh Debian machine (as root): sets up Docker, the local registry and the
# images, builds minikube-lite, brings a 2-node cluster up and runs the demo from the README.
# The cluster stays up afterwards; `minikube-lite down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkl() { echo "\$ minikube-lite $*" >&2; node dist/cli/main.js "$@"; }
mkl up --node-labels node-2:gpu=true
mkl apply -f examples/nginx-pod.yaml
mkl wait --for=condition=Ready pod/nginx --timeout=120s
mkl get pods -o wide
ip=$(node dist/cli/main.js get pod nginx -o jsonpath='{.status.podIP}')
mkl debug -- wget -qO- "http://$ip/"
echo >&2
echo "The cluster is up. Try: minikube-lite get nodes; minikube-lite apply -f examples/two-container-pod.yaml; minikube-lite down" >&2
