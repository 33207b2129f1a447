#!/usr/bin/env bash
# kubectl exec, cp, attach and port-forward against a minikube-lite cluster (see README,
# "kubectl exec, cp, attach, port-forward"). Usage: examples/streams.sh [cluster-name]
set -euo pipefail
name=${1:-minikube-lite}
export KUBECONFIG=${KUBECONFIG:-${HOME}/.minikube-lite/clusters/${name}/kubeconfig}
port=${PORT:-8080}
kubectl run streams-demo --image=nginx
kubectl wait --for=condition=Ready pod/streams-demo --timeout=60s
kubectl exec streams-demo -- sh -c 'echo hello from $(hostname)'
kubectl exec streams-demo -- sh -c 'exit 3' || echo "kubectl exited with $?"
echo "piped in" | kubectl exec -i streams-demo -- cat
echo "<h1>copied</h1>" > /tmp/streams-demo.html
kubectl cp /tmp/streams-demo.html streams-demo:/usr/share/nginx/html/copied.html
kubectl cp streams-demo:/usr/share/nginx/html/copied.html /tmp/streams-demo.back.html && cat /tmp/streams-demo.back.html
kubectl port-forward pod/streams-demo "${port}:80" & pf=$!
sleep 1
curl -s "127.0.0.1:${port}/copied.html"
kill "$pf"
kubectl run streams-late -i --rm --restart=Never --image=busybox -- sh -c 'sleep 3; echo output after 3 s'
kubectl delete pod streams-demo
