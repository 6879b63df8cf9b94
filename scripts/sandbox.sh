#!/usr/bin/env bash
# The newcomer's first command: a local sandbox (scratch marketbel database with sample data, a
# Redis with sample jobs, stand-ins for docker/kubectl and the HTTP services) and the console.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
exec npx tsx src/sandbox/start.ts "$@"
