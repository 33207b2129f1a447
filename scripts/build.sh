#!/usr/bin/env bash
# Installs the npm dependencies (when package-lock.json changed), compiles TypeScript to dist/ and
# builds the dashboard (dist/dashboard-web),
# and puts `minikube-lite` on the PATH (/usr/local/bin) for the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies" >&2
  npm ci --no-audit --no-fund >&2
fi
echo "==> compiling TypeScript" >&2
npx tsc -p tsconfig.json
echo "==> building the dashboard's static files" >&2
npm run --silent build:dashboard >&2
chmod +x bin/minikube-lite
if [ -w /usr/local/bin ]; then ln -sf "$PWD/bin/minikube-lite" /usr/local/bin/minikube-lite; fi
