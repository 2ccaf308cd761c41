#!/usr/bin/env python3
"""Seeded tables for the int4 error benchmark (docs/int4.md, issue "int4 that beats ...").

    int4_table.py KIND V D SEED OUT_DIR

KIND is `heavy` (Student-t, 4 degrees of freedom) or `normal` (N(0, 1)); every value is
that draw x 0.02 x the row's scale, a log-normal draw exp(N(0, 0.5^2)) per row, then
rounded to bfloat16 (nearest, ties to even), the dtype real checkpoints store.

OUT_DIR receives `model.safetensors` (one BF16 tensor `model.embed_tokens.weight`, V x D)
for embed2onnx, and `table.f32` (the same bf16 values widened to float32, row-major,
little-endian, no header) for quantisers outside this repo. Same arguments, same bytes.
Needs numpy only (Debian's python3-numpy).
"""
import json
import os
import struct
import sys

import numpy as np


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even (finite inputs)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("heavy", "normal"):
        sys.exit("usage: int4_table.py heavy|normal V D SEED OUT_DIR")
    kind, v, d, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rng = np.random.default_rng(seed)
    row_scale = np.exp(rng.normal(0.0, 0.5, size=(v, 1)))
    draw = rng.standard_t(4, size=(v, d)) if kind == "heavy" else rng.standard_normal((v, d))
    bits = bf16_bits((draw * 0.02 * row_scale).astype(np.float32))
    os.makedirs(out, exist_ok=True)
    header = json.dumps({"model.embed_tokens.weight": {
        "dtype": "BF16", "shape": [v, d], "data_offsets": [0, v * d * 2]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        f.write(bits.astype("<u2").tobytes())
    (bits.astype(np.uint32) << 16).astype("<u4").tofile(os.path.join(out, "table.f32"))


if __name__ == "__main__":
    main()
