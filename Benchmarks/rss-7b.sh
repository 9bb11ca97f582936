#!/usr/bin/env bash
# Memory check for a Llama-2-7B-shaped Q4_K_M model (random weights): `llamaserve serve` loads it and answers a
# request, and its peak RSS stays under  file size + KV cache + 200 MiB.
#
#   Benchmarks/rss-7b.sh MODEL.gguf [CONTEXT]
#
# MODEL.gguf is generated first when absent (../shared/tools/make_random_llama_gguf.py --preset llama2-7b
# --quant q4_k_m with the Llama 2 vocabulary; ~3.8 GiB, about a minute, plus free disk space). Never commit it.
# CONTEXT (default 4096) is passed as --ctx-size with --parallel 1; the KV cache is sized for it as LoadedModel does:
#     kvBytes = 2 (K and V) × layers × kvWidth × 2 bytes (F16) × (context + 16) × min(parallel = 1, 4)
# Needs /usr/bin/time (Debian package `time`), curl, and, when generating, python3 with numpy and gguf.
# Builds the release binary under the shared build lock unless SKIP_BUILD is set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model=${1:?usage: Benchmarks/rss-7b.sh MODEL.gguf [CONTEXT]}
context=${2:-4096}
binary="$ROOT/.build/release/llamaserve"

if [ ! -f "$model" ]; then
    echo "generating $model (Llama-2-7B shape, Q4_K_M mix, random weights)" >&2
    mkdir -p "$(dirname "$model")"
    python3 "$ROOT/../shared/tools/make_random_llama_gguf.py" --preset llama2-7b --quant q4_k_m \
        --vocab-from "$ROOT/../shared/fixtures/vocab/ggml-vocab-llama-spm.gguf" --out "$model.partial" --quiet
    mv "$model.partial" "$model"
fi
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$ROOT" && flock /tmp/llamaserve-build.lock swift build -c release --product llamaserve >&2)
fi
[ -x "$binary" ] || { echo "no release binary at $binary" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

# The model's shape, from `llamaserve info`.
info=$("$binary" info "$model")
layers=$(awk '/^blocks /{print $2}' <<<"$info")
kv_heads=$(sed -n 's/^heads *[0-9]* query, \([0-9]*\) key\/value.*/\1/p' <<<"$info")
head_dim=$(awk '/^head dimension /{print $3}' <<<"$info")
file_bytes=$(stat -c %s "$model")
kv_bytes=$((2 * layers * kv_heads * head_dim * 2 * (context + 16)))
budget=$((file_bytes + kv_bytes + 200 * 1048576))

log=$(mktemp)
server_log=$(mktemp)
trap 'rm -f "$log" "$server_log"' EXIT
# Serving, as the issue measures it: `serve` reads the file through once before loading (progress lines), and
# the weights it repacks must not stay resident twice. One request, then SIGTERM; /usr/bin/time reports the peak.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== llamaserve serve --model $model --ctx-size $context --parallel 1 (one 16-token request)" >&2
/usr/bin/time -v -o "$log" "$binary" serve --model "$model" --port "$port" --ctx-size "$context" --parallel 1 \
    >"$server_log" 2>&1 &
server=$!
until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { cat "$server_log" >&2; exit 1; }
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16,"ignore_eos":true}' >/dev/null
pkill -TERM -P "$server" 2>/dev/null || true
wait "$server" || true
rss_kib=$(awk -F': ' '/Maximum resident set size/{print $2}' "$log")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log")
rss=$((rss_kib * 1024))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "file size      $file_bytes bytes ($(mib "$file_bytes"))"
echo "KV cache       $kv_bytes bytes ($(mib "$kv_bytes")): 2 x $layers layers x $((kv_heads * head_dim)) x 2 B x ($context + 16)"
echo "budget         $budget bytes ($(mib "$budget")) = file + KV + 200 MiB"
echo "peak RSS       $rss bytes ($(mib "$rss")), wall $wall"
echo "margin         $((budget - rss)) bytes ($(mib $((budget - rss))))"
echo "RSS - file     $(mib $((rss - file_bytes)))"
if [ "$rss" -gt "$budget" ]; then
    echo "FAIL: peak RSS exceeds the budget" >&2
    exit 1
fi
echo "ok: peak RSS within file + KV + 200 MiB"
