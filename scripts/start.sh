#!/usr/bin/env bash
# `npm start`: installs and builds what is missing or stale, then runs every function in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
newest_source=$(find functions shared esbuild.config.ts -name '*.ts' -newer dist/embedded.mjs 2>/dev/null | head -n 1 || true)
if [[ ! -f dist/embedded.mjs || -n "$newest_source" ]]; then
  npm run --silent build:functions
fi
newest_web=$(find web/src web/index.html -newer web/dist/index.html 2>/dev/null | head -n 1 || true)
if [[ ! -f web/dist/index.html || -n "$newest_web" ]]; then
  npm run --silent build:web
fi
exec node --enable-source-maps dist/embedded.mjs
