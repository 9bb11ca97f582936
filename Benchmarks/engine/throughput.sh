#!/usr/bin/env bash
# Aggregate generation throughput and TTFT at concurrency 1 and 8 (issue 6), with ../shared/tools/loadgen.py:
# chat endpoint, ~100 prompt tokens, 128 generated tokens, the default model, --parallel 8.
# Usage: Benchmarks/engine/throughput.sh [REQUESTS_AT_8 (default 32)]
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-32}
bin=.build/release/llamaserve
[ -x "$bin" ] || swift build -c release
scripts/fetch-model.sh
log=$(mktemp)
"$bin" serve --port 0 --parallel 8 --threads 2 > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 300); do
    port=$(grep -oE 'listening on http://[^ ]+:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.2
done
url="http://127.0.0.1:$port"
loadgen=../shared/tools/loadgen.py
for c in 1 8; do
    n=$([ "$c" = 1 ] && echo 8 || echo "$requests")
    echo "== concurrency $c, $n requests"
    python3 "$loadgen" --url "$url" --endpoint chat --concurrency "$c" --requests "$n" --max-tokens 128 \
        --prompt-tokens 100 --warmup 1 --label "llamaserve c=$c" | tail -1
done
