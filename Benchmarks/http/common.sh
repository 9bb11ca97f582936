# Shared by the HTTP benchmark scripts: builds HTTPBenchServer in release mode (under the shared build lock)
# and starts it on a free port. Source it; it sets PORT and SERVER_PID and stops the server on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if [ -z "${SKIP_BUILD:-}" ]; then
    flock /tmp/llamaserve-build.lock swift build -c release --product HTTPBenchServer >&2
fi
BIN="$ROOT/.build/release/HTTPBenchServer"
LOG="$(mktemp)"
"$BIN" --port 0 >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 50); do
    PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$LOG")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start" >&2; cat "$LOG" >&2; exit 1; }
echo "HTTPBenchServer pid $SERVER_PID on port $PORT" >&2

# median VALUES... : prints the median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# wrk_runs URL RUNS: runs `wrk -t2 -c64 -d10s --latency URL` RUNS times; sets RPS=() and P99_MS=().
wrk_runs() {
    local url=$1 runs=$2 out
    RPS=()
    P99_MS=()
    for i in $(seq "$runs"); do
        out=$(wrk -t2 -c64 -d10s --latency "$url")
        echo "$out" | grep -E "Requests/sec|Latency  |     50%|     99%|Non-2xx|Socket errors" | sed "s/^/  run $i: /" >&2
        RPS+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
        P99_MS+=("$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}')")
    done
}
