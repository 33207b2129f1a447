#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine as root: installs and starts what the tests
# need (Docker engine, local registry, images), builds, then runs unit, contract and end-to-end
# tests against the real engine. Prints "N passed, N failed, N skipped" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkdir -p .build
status=0
npx vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json=.build/vitest.json "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync(".build/vitest.json", "utf8"));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' || true
exit $status
