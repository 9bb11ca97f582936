#!/usr/bin/env bash
# wrk -t2 -c64 -d10s against GET /health (15-byte JSON), 3 runs; prints the median requests/s and p99.
# Usage: Benchmarks/http/bench-health.sh [runs=3]
source "$(dirname "$0")/common.sh"
runs=${1:-3}
wrk_runs "http://127.0.0.1:$PORT/health" "$runs"
echo "health: median ${runs} runs: $(median "${RPS[@]}") requests/s, p99 $(median "${P99_MS[@]}") ms (runs: ${RPS[*]} / p99 ms: ${P99_MS[*]})"
