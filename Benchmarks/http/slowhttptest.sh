#!/usr/bin/env bash
# Slow-headers (slowloris) and slow-body attacks with slowhttptest, 1000 connections each, while probe.py
# times GET /health on fresh connections at 20 Hz. Reports the probe's p99, and the server's open
# descriptors before, during and after.
# Usage: Benchmarks/http/slowhttptest.sh [seconds per attack=60]
source "$(dirname "$0")/common.sh"
seconds=${1:-60}
fds() { ls /proc/$SERVER_PID/fd | wc -l; }
echo "server descriptors at rest: $(fds)"
probe_during() {  # probe_during SECONDS: probes /health until the attack ends; prints the summary
    python3 "$ROOT/Benchmarks/http/probe.py" "$PORT" "$1" 20
}
# Slow headers: the header timeout (10 s) closes each slowloris connection, and slowhttptest does not reopen
# them, so one wave lasts ~15 s. Three waves run back to back while the probe runs throughout.
probe_during $((3 * 16)) >/tmp/probe-H.txt &
probe=$!
peak=0
for wave in 1 2 3; do
    slowhttptest -H -c 1000 -r 500 -i 10 -l 30 -u "http://127.0.0.1:$PORT/health" -p 3 \
        -o "/tmp/slowhttptest-H-$wave" -g >"/tmp/slowhttptest-H-$wave.log" 2>&1 &
    attack=$!
    sleep 5
    now=$(fds); [ "$now" -gt "$peak" ] && peak=$now
    wait $attack || true
    echo "  wave $wave: $(grep -o 'Test ended on [0-9]*[a-z]* second' "/tmp/slowhttptest-H-$wave.log"); csv (seconds,closed,pending,connected,available):" \
        "$(sed -n '2p;7p;12p;$p' "/tmp/slowhttptest-H-$wave.csv" | tr '\n' ' ')"
done
wait $probe
echo "slow headers (-H, 3 waves of 1000): $(cat /tmp/probe-H.txt); server descriptors peak $peak, after $(sleep 2; fds)"

# Slow body: POST with Content-Length 8192 dribbled every 10 s; the body timeout (30 s between bytes) never
# fires, so 1000 connections stay open for the whole test.
slowhttptest -B -c 1000 -r 500 -i 10 -s 8192 -t POST -l "$seconds" -u "http://127.0.0.1:$PORT/health" -p 3 -x 24 \
    -o /tmp/slowhttptest-B -g >/tmp/slowhttptest-B.log 2>&1 &
attack=$!
sleep 5
during=$(fds)
result=$(probe_during $((seconds - 10)))
wait $attack || true
echo "  $(grep -o 'Test ended on [0-9]*[a-z]* second' /tmp/slowhttptest-B.log); csv (seconds,closed,pending,connected,available): $(sed -n '2p;7p;30p;$p' /tmp/slowhttptest-B.csv | tr '\n' ' ')"
echo "slow body (-B, 1000 connections, ${seconds} s): $result; server descriptors during $during, after $(sleep 2; fds)"
