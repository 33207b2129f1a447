#!/usr/bin/env bash
# Everyday stock-kubectl work on a minikube-lite cluster: DaemonSet and StatefulSet rollouts through
# ControllerRevisions (history with CHANGE-CAUSE, undo, restart), log windows, and cascading
# deletes (see README, "Everyday kubectl"). Usage: examples/kubectl-rollouts.sh [cluster-name]
set -euo pipefail
name=${1:-minikube-lite}
export KUBECONFIG=${KUBECONFIG:-${HOME}/.minikube-lite/clusters/${name}/kubeconfig}
here=$(dirname "$0")
kubectl apply -f "$here/daemonset.yaml" -f "$here/statefulset.yaml"
ds=daemonset/node-agent sts=statefulset/web
kubectl rollout status "$ds" --timeout=120s
kubectl rollout status "$sts" --timeout=120s
kubectl annotate "$ds" kubernetes.io/change-cause="add an env var" --overwrite
kubectl set env "$ds" DEMO=1
kubectl rollout status "$ds" --timeout=120s
kubectl rollout history "$ds"                      # 1 <none>, 2 add an env var
kubectl rollout undo "$ds"                         # back to revision 1, renumbered 3
kubectl rollout restart "$sts"
kubectl rollout status "$sts" --timeout=120s
kubectl logs "$sts" --since=10m --limit-bytes=200 || true
kubectl delete "$ds" "$sts" service/nginx          # their pods and ControllerRevisions go too
kubectl get controllerrevisions
