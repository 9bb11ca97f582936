#!/usr/bin/env python3
"""A plain numpy forward pass of a GGUF Llama model: an independent check of LlamaServe's arithmetic.

Reads the model with `gguf.GGUFReader`, dequantizes every tensor with `gguf.quants.dequantize` (the PyPI `gguf`
package, an implementation of ggml's block formats independent of ours), and runs the Llama forward pass over
a prompt in float64:

    x = token_embd[tokens]
    per block:  h = rmsnorm(x) * attn_norm
                q, k, v = h Wq, h Wk, h Wv;  RoPE on q and k;  causal softmax(q k^T / sqrt(head_dim)) v per head
                (grouped-query attention: query head j reads key/value head j // (n_head / n_head_kv))
                x += attn Wo
                h = rmsnorm(x) * ffn_norm;  x += (silu(h Wgate) * (h Wup)) Wdown
    logits = (rmsnorm(x[-1]) * output_norm) Woutput      (Woutput = token_embd when output.weight is absent)

RoPE is GGUF llama's "normal" mode: adjacent pairs (x[2i], x[2i+1]) of each head rotate by
theta_i = pos * base^(-2i/n_rot) (times the linear scaling factor and divided by rope_freqs[i] when the model
has them); dimensions past n_rot pass through.

Variants (`--variant`, repeatable; each is a '+'-joined set of options, or "exact"):
    exact   the mathematical forward pass above, nothing rounded but the stored weights
    q8act   the input of every product with a quantized weight matrix is first rounded as the engine (and
            ggml) does: 32-element blocks, scale d = max|x| / 127 stored as binary16, q = round-half-even(x / d)
            clamped to ±127, x ≈ d q. The weights are not touched: this isolates the engine's one deliberate
            approximation of the activations.
    f16kv   keys and values are stored as binary16, and the query and the attention weights are rounded to
            binary16 before their products, as the engine's (and ggml's) half-precision KV cache path does.
    neox    rotate the pairs (x[i], x[i + n_rot/2]) instead (GPT-NeoX mode): a deliberately wrong reference,
            so a test can show that the comparison notices a RoPE mistake.
    jitterX diagnostic: multiply every activation by (1 + X·normal) before its 8-bit rounding (X = 1e-7 is
            below float32 resolution), to show how much the rounding alone can move the logits.

8-bit activation rounding makes the logits a discontinuous function of the arithmetic: an activation (or a block
scale) that lies within float32 rounding noise of a rounding boundary may round either way, and one such flip
moves the logits by up to ~1e-2 relative on these tiny models — far more than the noise. `--ambiguity TOL` handles
that for the q8act variants without f16kv: it lists the roundings within TOL of a boundary and measures each
flip's effect; with `--match OURS.json` it also finds the flips that another implementation's logits reflect and
returns the reference for that resolution ("matched"), against which the arithmetic can be compared tightly.

Output: one JSON object on stdout,
    {"n_vocab": V, "tokens": [...], "variants": {"exact": [V logits of the last position], ...},
     "ambiguity": {"q8act": {"tolerance": TOL, "count": N, "largest": L,
                             "matched": {"flips": [[site, kind, index, value], ...], "logits": [...]}}}}

Usage:
    python3 Tests/Scripts/reference_forward.py MODEL.gguf --tokens 1 17 42 [--variant exact --variant q8act]
        [--ambiguity 1e-5 [--match OURS.json]]

Needs numpy and gguf (`pip install -r Tests/requirements.txt`). Meant for tiny models: it dequantizes every
tensor to float64 in memory.
"""

import argparse
import json
import os
import sys

# One BLAS thread: the products are tiny, and on a busy 2-core machine OpenBLAS's spinning threads make them 10×
# slower.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf.quants import dequantize  # noqa: E402

FLOAT_TYPES = {
    gguf.GGMLQuantizationType.F32,
    gguf.GGMLQuantizationType.F16,
    gguf.GGMLQuantizationType.BF16,
}


class Model:
    def __init__(self, path):
        self.reader = gguf.GGUFReader(path)
        arch = self.field("general.architecture")
        if arch != "llama":
            sys.exit("%s: architecture %r, not llama" % (path, arch))
        self.tensors = {t.name: t for t in self.reader.tensors}
        self.n_embd = int(self.field("llama.embedding_length"))
        self.n_layer = int(self.field("llama.block_count"))
        self.n_ff = int(self.field("llama.feed_forward_length"))
        self.n_head = int(self.field("llama.attention.head_count"))
        self.n_head_kv = int(self.field("llama.attention.head_count_kv", self.n_head))
        self.head_dim = int(self.field("llama.attention.key_length", self.n_embd // self.n_head))
        self.n_rot = int(self.field("llama.rope.dimension_count", self.head_dim))
        self.eps = float(self.field("llama.attention.layer_norm_rms_epsilon", 1e-5))
        self.rope_base = float(self.field("llama.rope.freq_base", 10000.0))
        scaling = self.field("llama.rope.scaling.type", "none")
        if scaling == "linear":
            self.rope_scale = 1.0 / float(self.field("llama.rope.scaling.factor", 1.0))
        elif scaling == "none":
            self.rope_scale = 1.0 / float(self.field("llama.rope.scale_linear", 1.0))
        else:
            sys.exit("unsupported rope scaling %r" % scaling)
        self.rope_factors = self.weight("rope_freqs.weight") if "rope_freqs.weight" in self.tensors else None
        self.tied = "output.weight" not in self.tensors
        self.cache = {}

    def field(self, key, default=None):
        f = self.reader.get_field(key)
        if f is None:
            if default is None:
                sys.exit("missing metadata key %s" % key)
            return default
        return f.contents()

    def quantized(self, name):
        return self.tensors[name].tensor_type not in FLOAT_TYPES

    def weight(self, name):
        """The tensor as float64, numpy shape [rows = out features, cols = in features] for matrices."""
        if name not in self.cache:
            t = self.tensors[name]
            w = dequantize(t.data, t.tensor_type)
            shape = tuple(int(n) for n in reversed(t.shape.tolist()))  # GGUF lists ne0 (the row length) first
            self.cache[name] = np.asarray(w, dtype=np.float64).reshape(shape)
        return self.cache[name]


def round_f16(x):
    return x.astype(np.float16).astype(np.float64)


class ActivationRounding:
    """The engine's 8-bit activation blocks (ggml's Q8_0 rounding), applied at each "site" (one call per product
    input, numbered in call order, which is the same in every run over the same prompt).

    - `tolerance`: record every rounding that a float32 computation of the same values (ours) may resolve the
      other way, as (site, kind, index, other value): kind "q" for an element within `tolerance × max|block|` of
      a rounding boundary (other value: the neighbouring q), kind "d" for a block scale max|block| / 127 within
      `tolerance` (relative) of a binary16 rounding boundary (other value: the neighbouring binary16 scale).
    - `overrides`: {site: [(kind, index, value)]} forces those roundings (to measure a flip's effect).
    - `jitter`: multiply the inputs by (1 + jitter · normal) first (a diagnostic of how ill-conditioned the 8-bit
      rounding makes the logits; seeded per site).
    """

    def __init__(self, tolerance=0.0, overrides=None, jitter=None):
        self.site = 0
        self.tolerance = tolerance
        self.overrides = overrides or {}
        self.jitter = jitter
        self.ambiguous = []

    def __call__(self, x):
        site = self.site
        self.site += 1
        shape = x.shape
        if self.jitter:
            x = x * (1 + self.jitter * np.random.default_rng(site).standard_normal(x.shape))
        b = x.reshape(-1, 32)
        amax = np.abs(b).max(axis=1, keepdims=True)
        # The scale is computed in single precision, then stored as binary16, as the engine (and ggml) do.
        d32 = amax.astype(np.float32) / np.float32(127)
        d16 = d32.astype(np.float16)
        d = d16.astype(np.float64)
        inverse = np.where(amax == 0, 0.0, 127.0 / np.where(amax == 0, 1.0, amax))
        t = b * inverse
        q = np.clip(np.rint(t), -127, 127)  # np.rint rounds half to even
        if self.tolerance > 0:
            boundary = np.floor(t) + 0.5
            near = np.abs(t - boundary) < self.tolerance * 127
            for i in np.flatnonzero(near):
                other = np.floor(t.flat[i]) if q.flat[i] > t.flat[i] else np.ceil(t.flat[i])
                if abs(other) <= 127:
                    self.ambiguous.append((site, "q", int(i), float(other)))
            exact = d32.astype(np.float64)
            neighbour = np.where(exact > d, np.nextafter(d16, np.float16(np.inf)),
                                 np.nextafter(d16, np.float16(-np.inf))).astype(np.float64)
            midpoint = (d + neighbour) / 2
            near = (np.abs(exact - midpoint) < self.tolerance * exact) & (amax > 0)
            for i in np.flatnonzero(near):
                self.ambiguous.append((site, "d", int(i), float(neighbour.flat[i])))
        for kind, i, value in self.overrides.get(site, ()):
            if kind == "q":
                q.flat[i] = value
            else:
                d.flat[i] = value
        return (q * d).reshape(shape)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, positions, m, neox):
    """x: [tokens, heads, head_dim], rotated in place over the first n_rot dimensions of each head."""
    half = m.n_rot // 2
    i = np.arange(half, dtype=np.float64)
    freqs = m.rope_base ** (-2.0 * i / m.n_rot)
    if m.rope_factors is not None:
        freqs = freqs / m.rope_factors
    theta = m.rope_scale * np.asarray(positions, dtype=np.float64)[:, None] * freqs[None, :]  # [tokens, half]
    c = np.cos(theta)[:, None, :]
    s = np.sin(theta)[:, None, :]
    if neox:
        a, b = x[:, :, :half].copy(), x[:, :, half:m.n_rot].copy()
        x[:, :, :half] = a * c - b * s
        x[:, :, half:m.n_rot] = a * s + b * c
    else:
        a, b = x[:, :, 0:m.n_rot:2].copy(), x[:, :, 1:m.n_rot:2].copy()
        x[:, :, 0:m.n_rot:2] = a * c - b * s
        x[:, :, 1:m.n_rot:2] = a * s + b * c
    return x


def forward(m, tokens, options, rounding=None):
    """The last position's logits. `rounding` is the 8-bit activation rounding used with option q8act."""
    rounding = rounding or ActivationRounding()
    q8act = "q8act" in options
    f16kv = "f16kv" in options
    neox = "neox" in options

    def products(x, *names):
        """x times each named matrix. With q8act, an input shared by several quantized matrices (Q, K and V; gate
        and up) is rounded once, as the engine does, so one rounding decision reaches all of them."""
        rounded = rounding(x) if q8act and any(m.quantized(n) for n in names) else None
        results = [(rounded if rounded is not None and m.quantized(n) else x) @ m.weight(n).T for n in names]
        return results if len(names) > 1 else results[0]

    T = len(tokens)
    positions = np.arange(T)
    hd, nh, nkv = m.head_dim, m.n_head, m.n_head_kv
    group = nh // nkv
    x = m.weight("token_embd.weight")[np.asarray(tokens)].copy()  # [T, n_embd]
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for layer in range(m.n_layer):
        p = "blk.%d." % layer
        h = rms_norm(x, m.weight(p + "attn_norm.weight"), m.eps)
        q, k, v = products(h, p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight")
        q = rope(q.reshape(T, nh, hd), positions, m, neox)
        k = rope(k.reshape(T, nkv, hd), positions, m, neox)
        v = v.reshape(T, nkv, hd)
        if f16kv:
            q, k, v = round_f16(q), round_f16(k), round_f16(v)
        out = np.empty((T, nh, hd))
        for j in range(nh):
            kv = j // group
            scores = q[:, j, :] @ k[:, kv, :].T / np.sqrt(hd) + mask  # [T query, T key]
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = scores / scores.sum(axis=1, keepdims=True)
            if f16kv:
                weights = round_f16(weights)
            out[:, j, :] = weights @ v[:, kv, :]
        x = x + products(out.reshape(T, nh * hd), p + "attn_output.weight")
        h = rms_norm(x, m.weight(p + "ffn_norm.weight"), m.eps)
        g, u = products(h, p + "ffn_gate.weight", p + "ffn_up.weight")
        x = x + products(g / (1.0 + np.exp(-g)) * u, p + "ffn_down.weight")
    last = rms_norm(x[-1:], m.weight("output_norm.weight"), m.eps)
    head = "token_embd.weight" if m.tied else "output.weight"
    return products(last, head)[0]


def parse_options(name):
    options = set() if name == "exact" else set(name.split("+"))
    jitter = None
    for o in list(options):
        if o.startswith("jitter"):
            jitter = float(o[len("jitter"):])
            options.remove(o)
    unknown = options - {"q8act", "f16kv", "neox"}
    if unknown:
        sys.exit("unknown variant option(s) %s" % ", ".join(sorted(unknown)))
    return options, jitter


def ambiguity(m, tokens, options, tolerance, ours=None):
    """The logits with 8-bit activation rounding, and the roundings a float32 computation of the same forward pass
    may legitimately resolve the other way.

    Every activation within `tolerance × max|block|` of a rounding boundary, and every block scale within
    `tolerance` of a binary16 rounding boundary, may round the other way in a float32 computation (see
    ActivationRounding). One more forward pass each measures how much rounding it the other way changes the logits
    ("largest": the biggest such change).

    With `ours` (another implementation's logits), also find which of those roundings it resolved the other way:
    greedily pick the flips that bring the reference closest to `ours` (least squares over the single-flip
    changes), recompute the forward pass with all picked flips applied together, and repeat from there a few
    times. The result ("matched") is the reference for the picked resolution of the ambiguous roundings — as
    valid a reference as the unflipped one — and how many flips it took.
    """
    def flip_run(flips, tolerance=0.0):
        overrides = {}
        for site, kind, index, other in flips:
            overrides.setdefault(site, []).append((kind, index, other))
        rounding = ActivationRounding(tolerance=tolerance, overrides=overrides)
        return forward(m, tokens, options, rounding), rounding.ambiguous

    base, candidates = flip_run([], tolerance)
    changes = [flip_run([c])[0] - base for c in candidates]
    result = {"tolerance": tolerance, "count": len(changes),
              "largest": float(max((np.abs(c).max() for c in changes), default=0.0))}
    if ours is None:
        return base, result

    # A flip upstream moves the activations downstream, which can make other roundings ambiguous that were not
    # before; so after each accepted set of flips the candidates are found again in the flipped forward pass.
    current, chosen = base, []
    for _ in range(4):
        residual = ours - current
        picked = []
        while True:
            norm = float(residual @ residual)
            best, best_norm = None, norm
            for i, change in enumerate(changes):
                if i in picked:
                    continue
                trial = residual - change
                trial_norm = float(trial @ trial)
                if trial_norm < best_norm:
                    best, best_norm = i, trial_norm
            if best is None or best_norm > 0.9 * norm:  # stop when no flip explains a tenth of what is left
                break
            picked.append(best)
            residual = residual - changes[best]
        if not picked:
            break
        flips = chosen + [candidates[i] for i in picked]
        trial, ambiguous = flip_run(flips, tolerance)
        if np.abs(ours - trial).max() >= np.abs(ours - current).max():
            break
        current, chosen = trial, flips
        taken = {(site, kind, index) for site, kind, index, _ in chosen}
        candidates = [c for c in ambiguous if (c[0], c[1], c[2]) not in taken]
        changes = [flip_run(chosen + [c])[0] - current for c in candidates]
    result["matched"] = {"flips": [list(c) for c in chosen], "logits": [float(v) for v in current]}
    return base, result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, nargs="+", required=True)
    ap.add_argument("--variant", action="append", default=None,
                    help="exact, or a '+'-joined set of q8act, f16kv, neox, jitterX (repeatable; default exact)")
    ap.add_argument("--ambiguity", type=float, default=0.0, metavar="TOLERANCE",
                    help="for q8act variants, also measure the ambiguous roundings: activations within "
                         "TOLERANCE × max|block| of a rounding boundary (e.g. 1e-6); 0 skips it")
    ap.add_argument("--match", metavar="LOGITS.json",
                    help="with --ambiguity: a JSON list of another implementation's last-position logits to "
                         "resolve the ambiguous roundings against (variants without f16kv)")
    a = ap.parse_args(argv)
    m = Model(a.model)
    n_vocab = m.weight("token_embd.weight").shape[0]
    if any(t < 0 or t >= n_vocab for t in a.tokens):
        sys.exit("token id out of range")
    ours = None
    if a.match:
        with open(a.match) as f:
            ours = np.asarray(json.load(f), dtype=np.float64)
        if ours.shape != (n_vocab,):
            sys.exit("--match: expected %d logits" % n_vocab)
    variants = {}
    ambiguities = {}
    for name in a.variant or ["exact"]:
        options, jitter = parse_options(name)
        if a.ambiguity > 0 and "q8act" in options and "f16kv" not in options and jitter is None:
            logits, ambiguities[name] = ambiguity(m, a.tokens, options, a.ambiguity, ours)
        else:
            logits = forward(m, a.tokens, options, ActivationRounding(jitter=jitter))
        variants[name] = [float(v) for v in logits]
    json.dump({"n_vocab": int(n_vocab), "tokens": a.tokens, "variants": variants, "ambiguity": ambiguities},
              sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
