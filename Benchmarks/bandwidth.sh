#!/usr/bin/env bash
# Read bandwidth of this machine (issue 8: the share of it that 7B-shaped decode uses). Compiles the stand-alone
# Benchmarks/bandwidth/main.swift outside the package and runs it: best of 5 passes over a GiB-sized buffer,
# 1 thread and all cores.
# Usage: Benchmarks/bandwidth.sh [GiB (default 2)] [threads (default: all cores)]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swiftc -O -target-cpu haswell Benchmarks/bandwidth/main.swift -o "$out/bandwidth" 2>/dev/null \
    || swiftc -O Benchmarks/bandwidth/main.swift -o "$out/bandwidth"
"$out/bandwidth" "$@"
