#!/usr/bin/env python3
"""Writes a tiny random-weight Llama GGUF for the reference forward-pass test (Tests/ModelTests/ReferenceForwardTests).

Unlike ../shared/tools/make_random_llama_gguf.py (built for benchmark shapes), every tensor here carries signal
the comparison can check:
  - matrices are normal(0, std) with std = --gain / sqrt(input width), so activations stay of order one and
    attention scores have a spread of about --gain² (peaked enough that a RoPE or head-mapping mistake shows);
  - the norm weights are normal(1, 0.2), not all ones, so a missing or misapplied norm weight shows (all-ones norms
    also make activations land exactly on 8-bit rounding ties when the embedding is 4-bit);
  - Q4_K matrices are quantized from the same normal values with a simple min/max quantizer (the `gguf` package
    only dequantizes K-quants), so they are valid blocks with realistic, zero-centred weights.

Types: f32, f16, q8_0, q4_0 (quantized by `gguf.quants.quantize`), q4_k (the quantizer below). Norms are F32.
No tokenizer metadata: the engine's model loader does not need it.

Usage:
    python3 Tests/Scripts/make_tiny_llama_gguf.py --out tiny.gguf --type q4_k --n-embd 256 --n-head 4 \
        --n-head-kv 2 --n-ff 512 [--n-layer 2] [--n-vocab 512] [--tie-embeddings] [--seed 1]
"""

import argparse
import sys

import numpy as np
import gguf

Q = gguf.GGMLQuantizationType


def quantize_q4_k(x):
    """Rows of float32 (length a multiple of 256) to Q4_K blocks: x ≈ d·sc·q − dmin·m per 32-element sub-block."""
    rows, cols = x.shape
    nb = cols // 256
    sub = x.reshape(rows * nb, 8, 32).astype(np.float64)
    lo = np.minimum(sub.min(axis=2), 0.0)                       # [blocks, 8]  (the offset is −dmin·m ≤ 0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / 15.0
    minimum = -lo
    d = (scale.max(axis=1) / 63.0).astype(np.float16)           # [blocks]
    dmin = (minimum.max(axis=1) / 63.0).astype(np.float16)
    df = d.astype(np.float64)[:, None]
    dminf = dmin.astype(np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.clip(np.rint(np.where(df > 0, scale / df, 0)), 0, 63).astype(np.uint8)
        m = np.clip(np.rint(np.where(dminf > 0, minimum / dminf, 0)), 0, 63).astype(np.uint8)
        step = (df * sc)[:, :, None]
        q = np.where(step > 0, (sub + (dminf * m)[:, :, None]) / np.where(step > 0, step, 1), 0)
    q = np.clip(np.rint(q), 0, 15).astype(np.uint8)             # [blocks, 8, 32]

    # 12 scale bytes: j < 4: s[j] = sc[j] | (sc[j+4] >> 4) << 6, s[j+4] = m[j] | (m[j+4] >> 4) << 6;
    # s[8+k] = (sc[4+k] & 15) | (m[4+k] & 15) << 4  (ggml's get_scale_min_k4, inverted).
    s = np.zeros((rows * nb, 12), dtype=np.uint8)
    s[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    s[:, 4:8] = (m[:, 0:4] & 63) | ((m[:, 4:8] >> 4) << 6)
    s[:, 8:12] = (sc[:, 4:8] & 15) | ((m[:, 4:8] & 15) << 4)
    # qs: for pair p, byte 32p + l holds sub-block 2p element l (low nibble) and sub-block 2p+1 element l (high).
    qs = (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(rows * nb, 128)
    blocks = np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2), s, qs], axis=1)
    return blocks.reshape(rows, nb * 144)


def encode(values, kind):
    """(array to write, raw ggml type or None) for a float32 matrix."""
    if kind == "f32":
        return values, None
    if kind == "f16":
        return values.astype(np.float16), None
    if kind == "q4_k":
        blocks = quantize_q4_k(values)
        back = gguf.quants.dequantize(blocks, Q.Q4_K)
        # The packing must round-trip through the gguf package's decoder to within the quantization step.
        step = np.abs(values).max() / 7.0
        if not np.all(np.abs(back - values) <= step):
            sys.exit("internal error: Q4_K packing does not round-trip")
        return blocks, Q.Q4_K
    qt = {"q8_0": Q.Q8_0, "q4_0": Q.Q4_0}[kind]
    return gguf.quants.quantize(values, qt), qt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", choices=["f32", "f16", "q8_0", "q4_0", "q4_k"], default="f32",
                    help="type of the 2-D matrices (norms are F32)")
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-head-kv", type=int, default=4)
    ap.add_argument("--n-ff", type=int, default=512)
    ap.add_argument("--n-layer", type=int, default=2)
    ap.add_argument("--n-vocab", type=int, default=512)
    ap.add_argument("--n-ctx", type=int, default=256)
    ap.add_argument("--rope-freq-base", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--gain", type=float, default=1.0, help="matrix std is gain / sqrt(input width)")
    ap.add_argument("--tie-embeddings", action="store_true", help="omit output.weight")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)

    E, F, V = a.n_embd, a.n_ff, a.n_vocab
    if E % a.n_head or a.n_head % a.n_head_kv:
        sys.exit("n_embd must divide by n_head, and n_head by n_head_kv")
    hd = E // a.n_head
    block = 256 if a.type == "q4_k" else 32
    if E % block or F % block:
        sys.exit("n_embd and n_ff must be multiples of %d for %s" % (block, a.type))
    rng = np.random.default_rng(a.seed)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name("tiny random llama (%s)" % a.type)
    w.add_context_length(a.n_ctx)
    w.add_embedding_length(E)
    w.add_block_count(a.n_layer)
    w.add_feed_forward_length(F)
    w.add_head_count(a.n_head)
    w.add_head_count_kv(a.n_head_kv)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(a.rope_freq_base)
    w.add_layer_norm_rms_eps(a.rms_eps)
    w.add_vocab_size(V)

    def matrix(name, rows, cols, std=None):
        values = rng.standard_normal((rows, cols), dtype=np.float32)
        values *= np.float32(std if std is not None else a.gain / np.sqrt(cols))
        data, raw = encode(values, a.type)
        w.add_tensor(name, data, raw_dtype=raw)

    def norm(name):
        w.add_tensor(name, (1.0 + 0.2 * rng.standard_normal(E)).astype(np.float32))

    matrix("token_embd.weight", V, E, std=1.0)
    for i in range(a.n_layer):
        p = "blk.%d." % i
        norm(p + "attn_norm.weight")
        matrix(p + "attn_q.weight", a.n_head * hd, E)
        matrix(p + "attn_k.weight", a.n_head_kv * hd, E)
        matrix(p + "attn_v.weight", a.n_head_kv * hd, E)
        matrix(p + "attn_output.weight", E, a.n_head * hd)
        norm(p + "ffn_norm.weight")
        matrix(p + "ffn_gate.weight", F, E)
        matrix(p + "ffn_up.weight", F, E)
        matrix(p + "ffn_down.weight", E, F)
    norm("output_norm.weight")
    if not a.tie_embeddings:
        matrix("output.weight", V, E)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
