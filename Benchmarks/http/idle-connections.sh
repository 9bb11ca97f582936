#!/usr/bin/env bash
# Holds 1000 idle keep-alive connections and reports the server's memory per connection.
source "$(dirname "$0")/common.sh"
python3 "$ROOT/Benchmarks/http/idle-connections.py" "$SERVER_PID" "$PORT" "${1:-1000}"
