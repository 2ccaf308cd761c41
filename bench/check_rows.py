#!/usr/bin/python3
"""Compares a few looked-up rows with the checkpoint, bit for bit, without reading the table.

For tables too large to check whole (the --large bench: 2 GiB of bf16): reads only
the sampled rows from the safetensors file, computes each tier's expected output with
the original script's own numpy code (fp16: astype(float16); int8: the seed's
_per_row_int8_quantise, which works row by row, so a row alone gives the same codes),
and compares with the float32 output ONNX Runtime wrote (bench/ort_session.mjs --dump).

  /usr/bin/python3 bench/check_rows.py --model-dir D --tier int8 --ids 0,1,262143 --got out.bin
Exits 0 and prints one line when every value is identical.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
from original_export import _per_row_int8_quantise, _read_header, _tensor_file  # noqa: E402


def read_rows(model_dir: Path, tensor: str | None, ids: list[int]) -> np.ndarray:
    path, name = _tensor_file(model_dir, tensor)
    header, data_start = _read_header(path)
    entry = header[name]
    V, D = (int(x) for x in entry["shape"])
    storage = {"BF16": "<u2", "F16": "<f2", "F32": "<f4"}[entry["dtype"]]
    item = np.dtype(storage).itemsize
    begin = data_start + int(entry["data_offsets"][0])
    rows = np.empty((len(ids), D), dtype=np.float32)
    with open(path, "rb") as f:
        for k, i in enumerate(ids):
            if not 0 <= i < V:
                raise SystemExit(f"id {i} is outside [0, {V})")
            f.seek(begin + i * D * item)
            raw = np.frombuffer(f.read(D * item), dtype=storage)
            if entry["dtype"] == "BF16":
                rows[k] = (raw.astype(np.uint32) << 16).view(np.float32)
            else:
                rows[k] = raw.astype(np.float32)
    return rows


def expected(tier: str, w: np.ndarray) -> np.ndarray:
    if tier == "fp32":
        return w
    if tier == "fp16w":
        return w.astype(np.float16).astype(np.float32)
    q, s = _per_row_int8_quantise(w)
    return q.astype(np.float32) * s[:, None]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", required=True, type=Path)
    p.add_argument("--tensor", default=None)
    p.add_argument("--tier", required=True, choices=["fp32", "fp16w", "int8"])
    p.add_argument("--ids", required=True, help="comma list, as given to ort_session.mjs --ids")
    p.add_argument("--got", required=True, type=Path, help="float32 output of the lookup")
    a = p.parse_args()
    ids = [int(x) for x in a.ids.split(",")]
    want = expected(a.tier, read_rows(a.model_dir, a.tensor, ids))
    got = np.fromfile(a.got, dtype="<f4")
    if got.size != want.size:
        print(json.dumps({"tier": a.tier, "ok": False, "why": f"{got.size} values, expected {want.size}"}))
        return 1
    got = got.reshape(want.shape)
    same = got.view(np.uint32) == want.view(np.uint32)
    bad = np.argwhere(~same)
    result = {"tier": a.tier, "ids": ids, "values": int(want.size), "bit_exact": bool(same.all())}
    if bad.size:
        r, c = (int(x) for x in bad[0])
        result["first_mismatch"] = {"id": ids[r], "col": c, "got": float(got[r, c]), "want": float(want[r, c])}
    print(json.dumps(result))
    return 0 if same.all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
