#!/usr/bin/env bash
# SSE throughput: wrk -t2 -c64 -d10s against GET /events?count=100 (100 data events of ~37 bytes plus
# [DONE] per response, chunked), 3 runs; events/s = requests/s x 100 (the [DONE] event is not counted).
# Usage: Benchmarks/http/bench-sse.sh [runs=3] [events per response=100]
source "$(dirname "$0")/common.sh"
runs=${1:-3}
count=${2:-100}
wrk_runs "http://127.0.0.1:$PORT/events?count=$count" "$runs"
rps=$(median "${RPS[@]}")
echo "sse: median ${runs} runs: $(awk -v r="$rps" -v c="$count" 'BEGIN {printf "%.0f", r*c}') events/s ($rps responses/s of $count events, 64 connections), p99 per response $(median "${P99_MS[@]}") ms"
