#!/usr/bin/env python3
"""The int4 tier's error per bit against llama.cpp's 4-bit formats (docs/int4.md).

    int4_error.py EXPORT_DIR TABLE_F32 V D

Runs every row of EXPORT_DIR/embed_tokens_int4.onnx through ONNX Runtime (CPU) and
compares it with the source table (TABLE_F32: float32 rows, as bench/int4_table.py
writes them). Prints one JSON line: bits per value (every initializer's bytes against
V x D, counting inline constants of 1 KiB or more, alignment padding not counted), RMSE
over all values and the mean row cosine similarity (sums in float64).
Needs the test venv (onnx, onnxruntime, numpy): make venv.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    out, table, v, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    path = os.path.join(out, "embed_tokens_int4.onnx")
    model = onnx.load(path, load_external_data=False)
    bits = 0
    for t in model.graph.initializer:
        n = int(np.prod(t.dims)) if t.dims else 1
        nbytes = n * onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        external = any(e.key == "location" for e in t.external_data)
        if external or nbytes >= 1024:
            bits += 8 * nbytes
    src = np.fromfile(table, dtype=np.float32).reshape(v, d)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    se, cos = 0.0, 0.0
    for start in range(0, v, 1024):
        ids = np.arange(start, min(v, start + 1024), dtype=np.int64)[None, :]
        got = sess.run(None, {"input_ids": ids})[0][0].astype(np.float64)
        x = src[ids[0]].astype(np.float64)
        se += float(((got - x) ** 2).sum())
        cos += float(((got * x).sum(1) / np.sqrt((got * got).sum(1) * (x * x).sum(1))).sum())
    print(json.dumps({"bits_per_value": bits / (v * d), "rmse": (se / (v * d)) ** 0.5, "cosine": cos / v}))


if __name__ == "__main__":
    main()
