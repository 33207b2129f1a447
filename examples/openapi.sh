#!/usr/bin/env bash
# OpenAPI with stock kubectl against a minikube-lite cluster (see README, "OpenAPI: kubectl explain
# and validation"). Usage: examples/openapi.sh [cluster-name]
set -euo pipefail
name=${1:-minikube-lite}
export KUBECONFIG=${KUBECONFIG:-${HOME}/.minikube-lite/clusters/${name}/kubeconfig}
here=$(dirname "$0")
kubectl explain pod | head -8
kubectl explain deployment.spec.strategy
kubectl explain pods.spec.containers --recursive | head -20
kubectl apply -f "$here/myapp-deployment.yaml"                  # default validation: the server's, Strict
kubectl apply --validate=strict -f "$here/typo-pod.yaml" || true  # names the unknown field
kubectl get --raw /openapi/v3 | head -c 300; echo
kubectl delete -f "$here/myapp-deployment.yaml"
