#!/usr/bin/env bash
# `npm run stack`: every function from its own bundle as its own process, against real Kafka,
# FerretDB (MongoDB wire protocol) and Redis on loopback, with the KafkaSource dispatcher and the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services/services.sh start
eval "$(bash scripts/services/services.sh env)"
npm run --silent build
exec npx tsx shared/platform/stack-main.ts
