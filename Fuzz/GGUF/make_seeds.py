#!/usr/bin/env python3
"""Writes small valid GGUF files to seed the parser fuzzer (scripts/fuzz-gguf.sh).

The files are made with the `gguf` package's own writer, an implementation independent of ours, so the seeds
are valid by someone else's reading of the format. They cover: no metadata and no tensors; metadata of every
value type including arrays; a custom alignment; tensors of plain and quantized types with several shapes;
a tiny vocabulary with the key names llama.cpp uses; many keys and strings, near the fuzz target's tight
metadata-memory limit; and a version-2 copy.

Usage: python3 Fuzz/GGUF/make_seeds.py OUTPUT_DIR
"""

import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.constants import GGML_QUANT_SIZES


WRITTEN: list[str] = []


def write(path: Path, build) -> None:
    WRITTEN.append(path.name)
    writer = gguf.GGUFWriter(str(path), "llama")
    build(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def raw_tensor(writer, name: str, shape: tuple, qtype: Q, rng) -> None:
    block, size = GGML_QUANT_SIZES[qtype]
    row_bytes = shape[-1] // block * size
    data = rng.integers(0, 256, size=(*shape[:-1], row_bytes), dtype=np.uint8)
    writer.add_tensor(name, data, raw_dtype=qtype)  # the shape is given in bytes; gguf converts it


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)

    write(out / "empty.gguf", lambda w: None)

    def every_type(w):
        w.add_uint8("t.u8", 200)
        w.add_int8("t.i8", -5)
        w.add_uint16("t.u16", 60000)
        w.add_int16("t.i16", -30000)
        w.add_uint32("t.u32", 4_000_000_000)
        w.add_int32("t.i32", -2_000_000_000)
        w.add_uint64("t.u64", 1 << 40)
        w.add_int64("t.i64", -(1 << 40))
        w.add_float32("t.f32", 1.5)
        w.add_float64("t.f64", -2.25)
        w.add_bool("t.bool", True)
        w.add_string("t.str", "héllo ✓")
        w.add_array("t.ints", [1, -2, 3])
        w.add_array("t.floats", [0.5, -1.0])
        w.add_array("t.strs", ["x", "", "yz"])
        w.add_array("t.bools", [True, False])
    write(out / "every-type.gguf", every_type)

    def tensors(w):
        w.add_custom_alignment(64)
        w.add_tensor("f32", rng.standard_normal((2, 8)).astype(np.float32))
        w.add_tensor("f16", rng.standard_normal(16).astype(np.float16))
        for name, qtype, shape in [("q4_0", Q.Q4_0, (2, 64)), ("q8_0", Q.Q8_0, (32,)), ("bf16", Q.BF16, (4,)),
                                   ("q4_K", Q.Q4_K, (256,)), ("q6_K", Q.Q6_K, (1, 256)), ("q5_1", Q.Q5_1, (3, 32))]:
            raw_tensor(w, name, shape, qtype, rng)
    write(out / "tensors.gguf", tensors)

    def vocab(w):
        w.add_tokenizer_model("llama")
        tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(8)] + ["▁the", "▁a", "ing", "▁Hello"]
        w.add_token_list(tokens)
        w.add_token_scores([0.0] * 11 + [-1.0, -2.0, -3.0, -4.0])
        w.add_token_types([2, 3, 3] + [6] * 8 + [1] * 4)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_context_length(2048)
        w.add_block_count(1)
        w.add_tensor("token_embd.weight", rng.standard_normal((15, 8)).astype(np.float32))
    write(out / "vocab.gguf", vocab)

    def many_keys(w):
        for i in range(30):
            w.add_uint32(f"k.{i}", i)
        w.add_array("k.strings", [f"string number {i:02d}" for i in range(40)])
    write(out / "many-keys.gguf", many_keys)

    v3 = (out / "tensors.gguf").read_bytes()
    (out / "tensors-v2.gguf").write_bytes(v3[:4] + (2).to_bytes(4, "little") + v3[8:])
    WRITTEN.append("tensors-v2.gguf")
    print(f"wrote {len(WRITTEN)} seed files to {out}: {', '.join(WRITTEN)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
