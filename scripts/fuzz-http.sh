#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP parser (Fuzz/HTTPParser/main.swift + Sources/HTTP) with
# AddressSanitizer and runs it.
#   scripts/fuzz-http.sh [seconds=60] [extra libFuzzer flags...]
# Binary: Fuzz/bin/http-parser-fuzzer. Corpus: Fuzz/corpus-http (seeded from Fuzz/HTTPParser/seeds).
# Crashes land in Fuzz/artifacts/. Exits non-zero when the fuzzer finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
mkdir -p Fuzz/bin Fuzz/corpus-http Fuzz/artifacts
swiftc -O -sanitize=fuzzer,address -parse-as-library -package-name LlamaServe -module-name HTTPParserFuzz \
    Fuzz/HTTPParser/main.swift Sources/HTTP/*.swift -o Fuzz/bin/http-parser-fuzzer
cp -n Fuzz/HTTPParser/seeds/* Fuzz/corpus-http/ 2>/dev/null || true
exec Fuzz/bin/http-parser-fuzzer Fuzz/corpus-http \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=5 \
    -dict=Fuzz/HTTPParser/http.dict -artifact_prefix=Fuzz/artifacts/ -print_final_stats=1 "$@"
