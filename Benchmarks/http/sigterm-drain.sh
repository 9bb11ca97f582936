#!/usr/bin/env bash
# End-to-end check of graceful shutdown through a signal: starts a long SSE stream, sends SIGTERM to
# HTTPBenchServer mid-stream, and checks that the stream still completes, that new connections are refused,
# and that the server exits 0.
source "$(dirname "$0")/common.sh"
out=$(mktemp)
curl -sN "http://127.0.0.1:$PORT/events?count=300000" >"$out" &
stream=$!
sleep 0.2
kill -TERM "$SERVER_PID"
sleep 0.1
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; then refused=no; else refused=yes; fi
wait $stream
set +e
wait "$SERVER_PID"
status=$?
set -e
trap - EXIT
events=$(grep -c '^data: ' "$out")
last=$(tail -n 2 "$out" | head -n 1)
rm -f "$out" "$LOG"
echo "sigterm-drain: stream got $events events (last: $last); new connection refused during drain: $refused; server exit status $status"
[ "$events" -eq 300001 ] && [ "$refused" = yes ] && [ "$status" -eq 0 ]
