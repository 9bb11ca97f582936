#!/usr/bin/env python3
"""Writes the dequantization reference fixtures in Tests/Fixtures/quant/ with the `gguf` package's numpy code.

The Swift tests (Tests/KernelsTests/DequantizationReferenceTests.swift) decode the same raw blocks and compare
with the float32 values numpy produced here. The `gguf` package is an independent implementation of ggml's block
layouts, so agreement checks our reading of them, not just our consistency with ourselves.

For each format the file holds several rows whose lengths are whole numbers of blocks (1, 2, 3, 5 blocks, and
odd lengths for the one-element "blocks" of F32/F16/BF16):
  - formats `gguf.quants` can quantize (BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0; F16/F32 by numpy casts) get rows
    quantized from random normal data, plus one row of random bytes;
  - the k-quants, which the package only dequantizes, get random bytes. Dequantization is defined for any bytes,
    but the f16 scale fields are overwritten with small finite values so outputs are finite and of moderate size
    (|x| < 16, which the Swift tolerance argument relies on).
F16 and BF16 rows also include every special class: zeros, subnormals, infinities, quiet and signalling NaNs.

Output format, all little-endian (one file per format, `<name>.bin`):
    "LSQF" | u32 version = 1 | u32 ggml type id | u32 row count
    per row: u32 element count | u32 byte count | raw bytes | element count x f32 (numpy's result)
plus `manifest.json` describing the generator and each file, for people (the tests do not read it).

Usage: python3 Tests/Scripts/make_quant_fixtures.py   (needs `pip install -r Tests/requirements.txt`)
Deterministic: a fixed seed, so re-running rewrites identical files.
"""

import hashlib
import importlib.metadata
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
import gguf.quants

SEED = 20261127
OUT = Path(__file__).resolve().parent.parent / "Fixtures" / "quant"

# name -> (type, byte offsets of f16 scale fields inside one block, whether gguf can quantize it)
FORMATS = {
    "f32": (T.F32, [], True),
    "f16": (T.F16, [], True),
    "bf16": (T.BF16, [], True),
    "q4_0": (T.Q4_0, [0], True),
    "q4_1": (T.Q4_1, [0, 2], True),
    "q5_0": (T.Q5_0, [0], True),
    "q5_1": (T.Q5_1, [0, 2], True),
    "q8_0": (T.Q8_0, [0], True),
    "q2_K": (T.Q2_K, [80, 82], False),
    "q3_K": (T.Q3_K, [108], False),
    "q4_K": (T.Q4_K, [0, 2], False),
    "q5_K": (T.Q5_K, [0, 2], False),
    "q6_K": (T.Q6_K, [208], False),
}

FLOAT_ROW_LENGTHS = [1, 7, 8, 9, 33, 100]  # elements (block size 1); the kernel-test sizes of ARCHITECTURE.md 3.5
QUANT_ROW_BLOCKS = [1, 2, 3, 5]

# F16 bit patterns covering every class: +-0, smallest/largest subnormal, smallest normal, 1, max, +-inf,
# quiet NaN, signalling NaNs with payloads, negative NaN.
F16_SPECIALS = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                0x7E00, 0x7C01, 0x7DFF, 0xFE01, 0x0200, 0x3555]
# BF16 likewise (the top halves of the float32 patterns of the same classes).
BF16_SPECIALS = [0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x3F80, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80, 0x7FC0,
                 0x7F81, 0xFFC1, 0x4049]


def reference(raw: np.ndarray, qtype: T) -> np.ndarray:
    """numpy's dequantization of one row of raw bytes (the independent reference)."""
    out = gguf.quants.dequantize(raw.reshape(1, -1), qtype)
    return np.ascontiguousarray(out, dtype=np.float32).reshape(-1)


def small_f16_bytes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random finite f16 scales with |d| <= 0.003, both signs."""
    return rng.uniform(-0.003, 0.003, size=count).astype(np.float16).view(np.uint8)


def float_rows(name: str, qtype: T, rng: np.random.Generator):
    rows = []
    for n in FLOAT_ROW_LENGTHS:
        values = (rng.standard_normal(n) * rng.choice([1e-3, 1.0, 300.0])).astype(np.float32)
        if qtype == T.F32:
            raw = values.view(np.uint8)
        elif qtype == T.F16:
            raw = gguf.quants.quantize(values, T.F16).view(np.uint8)
        else:
            raw = gguf.quants.quantize(values.reshape(1, -1), T.BF16).reshape(-1)
        rows.append(raw)
    # One row of arbitrary bit patterns (specials first, then random ones).
    if qtype == T.F32:
        bits = np.concatenate([np.array([0, 0x80000000, 1, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001],
                                        dtype=np.uint32), rng.integers(0, 2**32, size=25, dtype=np.uint32)])
    else:
        specials = F16_SPECIALS if qtype == T.F16 else BF16_SPECIALS
        bits = np.concatenate([np.array(specials, dtype=np.uint16),
                               rng.integers(0, 2**16, size=64 - len(specials), dtype=np.uint16)])
    rows.append(bits.view(np.uint8))
    return rows


def quant_rows(name: str, qtype: T, scale_offsets, can_quantize: bool, rng: np.random.Generator):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    rows = []
    for blocks in QUANT_ROW_BLOCKS:
        if can_quantize:
            values = (rng.standard_normal(blocks * block_size) * rng.choice([0.02, 1.0])).astype(np.float32)
            raw = gguf.quants.quantize(values.reshape(1, -1), qtype).reshape(-1)
        else:
            raw = random_blocks(blocks, type_size, scale_offsets, rng)
        rows.append(np.ascontiguousarray(raw, dtype=np.uint8))
    if can_quantize:
        rows.append(random_blocks(3, type_size, scale_offsets, rng))
    return rows


def random_blocks(blocks: int, type_size: int, scale_offsets, rng: np.random.Generator) -> np.ndarray:
    raw = rng.integers(0, 256, size=(blocks, type_size), dtype=np.uint8)
    for offset in scale_offsets:
        raw[:, offset:offset + 2] = small_f16_bytes(rng, blocks).reshape(blocks, 2)
    return raw.reshape(-1)


def main() -> int:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": "Tests/Scripts/make_quant_fixtures.py",
        "gguf": importlib.metadata.version("gguf"),
        "numpy": np.__version__,
        "seed": SEED,
        "format": "LSQF v1: 'LSQF' u32 version u32 ggml_type u32 rows; rows: u32 n u32 bytes raw f32[n]",
        "row_fields": ["elements", "bytes", "max |x| over finite outputs"],
        "files": {},
    }
    for name, (qtype, scale_offsets, can_quantize) in FORMATS.items():
        if qtype in (T.F32, T.F16, T.BF16):
            rows = float_rows(name, qtype, rng)
        else:
            rows = quant_rows(name, qtype, scale_offsets, can_quantize, rng)
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        blob = bytearray(b"LSQF" + struct.pack("<III", 1, int(qtype), len(rows)))
        cases = []
        for raw in rows:
            assert raw.size % type_size == 0
            values = reference(raw, qtype)
            assert values.size == raw.size // type_size * block_size
            blob += struct.pack("<II", values.size, raw.size)
            blob += raw.tobytes()
            blob += values.astype("<f4").tobytes()
            finite = values[np.isfinite(values)]
            cases.append([int(values.size), int(raw.size), float(np.abs(finite).max()) if finite.size else 0.0])
        path = OUT / f"{name}.bin"
        path.write_bytes(bytes(blob))
        manifest["files"][path.name] = {"ggml_type": int(qtype), "sha256": hashlib.sha256(blob).hexdigest(),
                                        "rows": cases}
    # One row per line keeps the manifest short enough to read.
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]",
                  json.dumps(manifest, indent=1))
    (OUT / "manifest.json").write_text(text + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(FORMATS)} fixture files to {OUT} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
