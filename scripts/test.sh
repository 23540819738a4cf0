#!/usr/bin/env bash
# `npm test`: installs what the tests need, then lint, type checks, the build and every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

echo "== lint";       npx biome check .
echo "== typecheck";  npx tsc --noEmit -p . && npx tsc -p loadtest/k6 && npx svelte-check --tsconfig web/tsconfig.json --threshold error --output machine | tail -n 1
echo "== build";      npm run --silent build

# Real Kafka, FerretDB on PostgreSQL and Redis for the adapter, stack and fault suites, and a Kubernetes
# control plane (kube-apiserver, etcd, KWOK) for the Kubernetes sandbox backend; stopped again if we
# started them. The control plane's first build takes about ten minutes and is cached.
echo "== services"
services=scripts/services/services.sh
if ! bash "$services" status redis kafka postgres ferretdb kube >/dev/null 2>&1; then
  trap 'bash "$services" stop redis kafka postgres ferretdb kube >/dev/null 2>&1 || true' EXIT
fi
bash "$services" start redis kafka postgres ferretdb kube
eval "$(bash "$services" env)"

echo "== tests"
mkdir -p .cache
status=0
npx vitest run --exclude 'test/*faults.test.ts' --exclude test/api-fuzz.test.ts --reporter=default --reporter=json \
  --outputFile.json=.cache/vitest-report.json || status=$?
# The fault suites restart the shared servers (Kafka, Redis, PostgreSQL, FerretDB, the Kubernetes control
# plane): they run alone, after everything else.
echo "== fault tests"
npx vitest run test/stack-faults.test.ts test/stack-kubernetes-faults.test.ts --reporter=default --reporter=json \
  --outputFile.json=.cache/vitest-faults-report.json || status=$?
# The API fuzz run keeps both cores busy for its time budget: alone, last.
echo "== API fuzz"
npx vitest run test/api-fuzz.test.ts --reporter=default --reporter=json \
  --outputFile.json=.cache/vitest-fuzz-report.json || status=$?
node -e '
  const reports = ["report", "faults-report", "fuzz-report"].map((name) => require(`./.cache/vitest-${name}.json`));
  const sum = (key) => reports.reduce((n, r) => n + r[key], 0);
  const skipped = sum("numPendingTests") + sum("numTodoTests");
  console.log(`Tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
