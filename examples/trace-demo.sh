#!/usr/bin/env bash
# Watch the seven steps for the README's Deployment: the timeline of each pod, then the live
# dashboard (open the printed one-time URL in a browser on this machine).
set -euo pipefail
minikube-lite apply -f "$(dirname "$0")/myapp-deployment.yaml"
minikube-lite rollout status deployment/myapp
minikube-lite trace deployment myapp
minikube-lite dashboard
minikube-lite scale deployment myapp --replicas=3     # watch the third pod appear in the dashboard
minikube-lite trace deployment myapp --follow         # Ctrl-C to stop
