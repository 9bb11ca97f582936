#!/usr/bin/env bash
# Tokenizer throughput: encodes a deterministic ~1 MB English+code+CJK text with the Llama 2 SentencePiece
# vocabulary and with SmolLM2's byte-level BPE vocabulary, best of N runs, encoding only (file already read,
# vocabulary already loaded). Build first: swift build -c release (on the shared machine, inside the build lock).
#
#   Benchmarks/tokenizer/run.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-10}
binary=.build/release/llamaserve
[ -x "$binary" ] || { echo "build first: swift build -c release" >&2; exit 1; }
text=$(mktemp /tmp/tokenizer-bench-XXXXXX.txt)
trap 'rm -f "$text"' EXIT
python3 Benchmarks/tokenizer/make-text.py > "$text"
for model in ../shared/fixtures/vocab/ggml-vocab-llama-spm.gguf models/SmolLM2-135M-Instruct.Q4_1.gguf; do
    echo "== $model" >&2
    "$binary" tokenize --model "$model" --file "$text" --benchmark --repeat "$repeats"
done
