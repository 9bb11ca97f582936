#!/usr/bin/env bash
# Builds the GGUF parser fuzz target (Fuzz/GGUF/main.swift + Sources/GGUF/*.swift, libFuzzer + AddressSanitizer)
# into Fuzz/bin/ and runs it for SECONDS (default 600) on the corpus in Fuzz/corpus-gguf/, after (re)writing the
# seed files (small valid GGUF files) into it. Everything it writes is git-ignored; crashes land in
# Fuzz/artifacts/ and the run's log in Fuzz/artifacts/fuzz-gguf.log.
#
# Usage: scripts/fuzz-gguf.sh [SECONDS]     (SWIFTC overrides the compiler; needs python3 + gguf for seeding)
# Reproduce a finding: Fuzz/bin/fuzz-gguf Fuzz/artifacts/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
swiftc=${SWIFTC:-swiftc}
mkdir -p Fuzz/bin Fuzz/corpus-gguf Fuzz/artifacts

# The machine is shared: builds take the build lock; the fuzzing itself does not.
# lld, because gold prints a warning for every ASan helper symbol.
flock /tmp/llamaserve-build.lock "$swiftc" -sanitize=fuzzer,address -parse-as-library -O -use-ld=lld \
    -package-name LlamaServe -module-name GGUFFuzz \
    Sources/GGUF/*.swift Fuzz/GGUF/main.swift -o Fuzz/bin/fuzz-gguf

python3 Fuzz/GGUF/make_seeds.py Fuzz/corpus-gguf

# The full log goes to the file; the terminal gets progress lines, the summary and any report.
set +e
Fuzz/bin/fuzz-gguf Fuzz/corpus-gguf \
    -dict=Fuzz/GGUF/gguf.dict \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=65536 -timeout=5 \
    -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=Fuzz/artifacts/ 2>&1 | tee Fuzz/artifacts/fuzz-gguf.log | grep -E --line-buffered \
    '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^(==|SUMMARY|artifact_prefix|Test unit written|stat::)|ERROR|Done '
status=${PIPESTATUS[0]}
set -e
echo "corpus: $(ls Fuzz/corpus-gguf | wc -l) files; log: Fuzz/artifacts/fuzz-gguf.log; exit status $status"
exit "$status"
