#!/usr/bin/env python3
"""Independent numpy check of an embed2onnx export (SPEC §4 numerics, §5 report).

    check_numpy.py --export-dir E --model-dir M [--tensor NAME]

Reads the embedding table from the safetensors checkpoint with numpy, computes every tier
exactly as the original Python exporter does (numpy astype / round / clip / quantile /
mean), reads each initializer's bytes from the .onnx files (a minimal protobuf reader,
no `onnx` package) and compares them byte for byte; then checks embed_tokens_parity.json.
Standard library + numpy only. Exits 1 with a message naming the first mismatch.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import numpy as np

SAMPLE_CANDIDATES = [0, 1, 100, 1024, 50000, 100352, 100351]
REL_TOL = 1e-6
TIER_FILES = {"fp32": "embed_tokens.onnx", "fp16w": "embed_tokens_fp16w.onnx", "int8": "embed_tokens_int8.onnx"}
KNOWN_TABLE_NAMES = [
    "model.embed_tokens.weight",
    "model.language_model.embed_tokens.weight",
    "language_model.model.embed_tokens.weight",
    "language_model.embed_tokens.weight",
    "llm.model.embed_tokens.weight",
    "transformer.wte.weight",
    "wte.weight",
    "model.model.embed_tokens.weight",
    "embed_tokens.weight",
]
# ONNX TensorProto.DataType
ONNX_FLOAT, ONNX_INT8, ONNX_INT64, ONNX_FLOAT16 = 1, 3, 7, 10


class CheckError(Exception):
    pass


def fail(msg: str) -> None:
    raise CheckError(msg)


# ---------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------
def read_header(path: str) -> tuple[dict, int]:
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            fail(f"{path}: shorter than the 8-byte safetensors header length")
        (n,) = struct.unpack("<Q", head)
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def checkpoint_tensors(model_dir: str) -> dict[str, str]:
    """tensor name -> file holding it."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        header, _ = read_header(single)
        return {k: single for k in header if k != "__metadata__"}
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            wm = json.load(f)["weight_map"]
        return {k: os.path.join(model_dir, v) for k, v in wm.items()}
    fail(f"{model_dir}: neither model.safetensors nor model.safetensors.index.json")
    return {}


def load_table(path: str, name: str) -> tuple[np.ndarray, str]:
    header, data_start = read_header(path)
    if name not in header:
        fail(f"{path}: tensor '{name}' not in the header")
    e = header[name]
    dtype, shape, (begin, end) = e["dtype"], e["shape"], e["data_offsets"]
    if len(shape) != 2:
        fail(f"{path}: tensor '{name}' has shape {shape}, expected 2-D")
    count = shape[0] * shape[1]
    item = {"BF16": 2, "F16": 2, "F32": 4}.get(dtype)
    if item is None:
        fail(f"{path}: tensor '{name}' has dtype {dtype}; this checker reads BF16, F16, F32")
    if end - begin != count * item:
        fail(f"{path}: tensor '{name}' data_offsets span {end - begin} bytes, expected {count * item}")
    if dtype == "BF16":
        raw = np.fromfile(path, dtype="<u2", count=count, offset=data_start + begin)
        w = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
    elif dtype == "F16":
        w = np.fromfile(path, dtype="<f2", count=count, offset=data_start + begin).astype(np.float32)
    else:
        w = np.fromfile(path, dtype="<f4", count=count, offset=data_start + begin).astype(np.float32)
    return np.ascontiguousarray(w.reshape(shape)), dtype


# ---------------------------------------------------------------------------------------
# The original's numerics (export_embed_tokens.py), verbatim where it matters
# ---------------------------------------------------------------------------------------
def per_row_int8_quantise(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if weight.dtype != np.float32:
        weight = weight.astype(np.float32, copy=False)
    abs_max = np.maximum(np.abs(weight).max(axis=1), 1e-12)
    scales = (abs_max / 127.0).astype(np.float32)
    int_w = np.round(weight / scales[:, None])
    int_w = np.clip(int_w, -127, 127).astype(np.int8)
    return int_w, scales


def error_stats(err: np.ndarray) -> dict[str, float]:
    return {
        "max_abs_err": float(err.max()),
        "mean_abs_err": float(err.mean()),
        "p99_abs_err": float(np.quantile(err, 0.99)),
    }


# ---------------------------------------------------------------------------------------
# Minimal protobuf wire-format reader for ModelProto -> graph -> initializer
# ---------------------------------------------------------------------------------------
def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            fail("truncated varint in .onnx file")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            fail("varint longer than 10 bytes in .onnx file")


def fields(buf: bytes):
    """Yields (field number, wire type, value); value is int for varint/fixed, bytes for LEN."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = read_varint(buf, pos)
        elif wt == 1:
            v = buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            n, pos = read_varint(buf, pos)
            v = buf[pos:pos + n]
            if len(v) != n:
                fail("truncated length-delimited field in .onnx file")
            pos += n
        elif wt == 5:
            v = buf[pos:pos + 4]
            pos += 4
        else:
            fail(f"unsupported protobuf wire type {wt}")
        yield num, wt, v


def packed_varints(wt: int, v) -> list[int]:
    if wt == 0:
        return [v]
    out, pos = [], 0
    while pos < len(v):
        x, pos = read_varint(v, pos)
        out.append(x)
    return out


def to_signed64(x: int) -> int:
    return x - (1 << 64) if x >= (1 << 63) else x


def parse_tensor(buf: bytes) -> dict:
    t = {"dims": [], "data_type": 0, "name": "", "raw_data": None, "external": {}, "data_location": 0,
         "float_data": [], "int32_data": [], "int64_data": []}
    for num, wt, v in fields(buf):
        if num == 1:
            t["dims"] += [to_signed64(x) for x in packed_varints(wt, v)]
        elif num == 2:
            t["data_type"] = v
        elif num == 8:
            t["name"] = v.decode("utf-8")
        elif num == 9:
            t["raw_data"] = bytes(v)
        elif num == 13:
            key = value = None
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    key = v2.decode("utf-8")
                elif n2 == 2:
                    value = v2.decode("utf-8")
            t["external"][key] = value
        elif num == 14:
            t["data_location"] = v
        elif num == 4:  # float_data
            t["float_data"] += list(struct.unpack(f"<{len(v) // 4}f", v)) if wt == 2 else list(struct.unpack("<f", v))
        elif num == 5:  # int32_data (also int8 and float16 bits)
            t["int32_data"] += [x & 0xFFFFFFFF for x in packed_varints(wt, v)]
        elif num == 7:  # int64_data
            t["int64_data"] += [to_signed64(x) for x in packed_varints(wt, v)]
    return t


def load_initializers(onnx_path: str) -> dict[str, dict]:
    with open(onnx_path, "rb") as f:
        model = f.read()
    graph = None
    for num, wt, v in fields(model):
        if num == 7 and wt == 2:
            graph = v
    if graph is None:
        fail(f"{onnx_path}: no graph in ModelProto")
    inits = {}
    for num, wt, v in fields(graph):
        if num == 5 and wt == 2:
            t = parse_tensor(v)
            inits[t["name"]] = t
    return inits


NP_OF = {ONNX_FLOAT: np.dtype("<f4"), ONNX_FLOAT16: np.dtype("<f2"), ONNX_INT8: np.dtype("i1"),
         ONNX_INT64: np.dtype("<i8")}


def initializer_bytes(onnx_path: str, t: dict) -> bytes:
    """The stored bytes of an initializer, from the sidecar or inline."""
    name = t["name"]
    if t["data_location"] == 1:
        ext = t["external"]
        keys = set(ext)
        if not keys <= {"location", "offset", "length"} or "location" not in keys:
            fail(f"{onnx_path}: initializer '{name}' external_data keys {sorted(keys)}")
        loc = ext["location"]
        if os.path.basename(loc) != loc:
            fail(f"{onnx_path}: initializer '{name}' location '{loc}' is not a plain file name")
        offset = int(ext.get("offset", "0"))
        length = int(ext["length"]) if "length" in ext else None
        path = os.path.join(os.path.dirname(onnx_path), loc)
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(length if length is not None else -1)
        if length is not None and len(data) != length:
            fail(f"{path}: initializer '{name}' wants {length} bytes at offset {offset}, file has {len(data)}")
        return data
    if t["raw_data"] is not None:
        return t["raw_data"]
    dt = t["data_type"]
    if dt == ONNX_FLOAT:
        return np.array(t["float_data"], dtype="<f4").tobytes()
    if dt == ONNX_INT64:
        return np.array(t["int64_data"], dtype="<i8").tobytes()
    if dt == ONNX_INT8:
        return np.array(t["int32_data"], dtype=np.uint32).astype(np.uint8).tobytes()
    if dt == ONNX_FLOAT16:
        return np.array(t["int32_data"], dtype=np.uint32).astype(np.uint16).tobytes()
    fail(f"{onnx_path}: initializer '{name}' has no data")
    return b""


def stored_array(onnx_path: str, inits: dict, name: str, want: np.ndarray, onnx_type: int) -> np.ndarray:
    """Checks name/type/dims and compares the stored bytes with `want` exactly."""
    if name not in inits:
        fail(f"{onnx_path}: no initializer '{name}' (has {sorted(inits)})")
    t = inits[name]
    if t["data_type"] != onnx_type:
        fail(f"{onnx_path}: initializer '{name}' data_type {t['data_type']}, expected {onnx_type}")
    if list(t["dims"]) != list(want.shape):
        fail(f"{onnx_path}: initializer '{name}' dims {t['dims']}, expected {list(want.shape)}")
    data = initializer_bytes(onnx_path, t)
    expect = want.astype(NP_OF[onnx_type].newbyteorder("<"), copy=False)
    if len(data) != expect.nbytes:
        fail(f"{onnx_path}: initializer '{name}' holds {len(data)} bytes, expected {expect.nbytes}")
    got = np.frombuffer(data, dtype=NP_OF[onnx_type]).reshape(want.shape)
    ubits = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[expect.itemsize]
    neq = got.view(ubits) != np.ascontiguousarray(expect).view(ubits)
    if neq.any():
        idx = np.unravel_index(int(np.flatnonzero(neq)[0]), want.shape)
        where = f"row {idx[0]} col {idx[1]}" if len(idx) == 2 else f"index {idx[0]}"
        fail(f"{onnx_path}: initializer '{name}' differs from numpy at {where} "
             f"({int(neq.sum())} elements differ): stored {got[idx]!r} (bits {int(got.view(ubits)[idx]):#x}), "
             f"numpy {expect[idx]!r} (bits {int(np.ascontiguousarray(expect).view(ubits)[idx]):#x})")
    return got


# ---------------------------------------------------------------------------------------
# Report comparison
# ---------------------------------------------------------------------------------------
def rel_diff(got: float, ref: float) -> float:
    if got == ref or (got != got and ref != ref):
        return 0.0
    if got != got or ref != ref or abs(got) == float("inf") or abs(ref) == float("inf"):
        return float("inf")
    return abs(got - ref) / max(abs(ref), abs(got))


def compare_stats(label: str, reported: dict, ref: dict, problems: list[str], tol: float) -> str:
    """max exact; mean and p99 within `tol` relative. Returns a summary fragment."""
    parts = []
    for key in ("max_abs_err", "mean_abs_err", "p99_abs_err"):
        if key not in reported:
            problems.append(f"{label}: report lacks {key}")
            continue
        got, want = float(reported[key]), ref[key]
        bit = struct.pack("<d", got) == struct.pack("<d", want) or (got != got and want != want)
        rd = rel_diff(got, want)
        short = key.split("_")[0]
        if key == "max_abs_err":
            if not bit:
                problems.append(f"{label}.{key} = {got!r}, numpy {want!r} (must be equal)")
            parts.append(f"{short} {'==' if bit else '!='}")
        else:
            if rd > tol or (tol == 0.0 and not bit):
                problems.append(f"{label}.{key} = {got!r}, numpy {want!r}: relative difference {rd:.3e} > {tol:g}")
            parts.append(f"{short} {'bit-identical' if bit else f'rel {rd:.2e}'}")
    return ", ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export-dir", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--tensor", help="table tensor name (default: the report's info.tensor, else a known name)")
    ap.add_argument("--rel-tol", type=float, default=REL_TOL,
                    help=f"relative tolerance for mean/p99 against numpy (default {REL_TOL:g})")
    ap.add_argument("--exact", action="store_true",
                    help="require mean/p99 bit-identical to numpy's as float64 (tolerance 0)")
    ap.add_argument("--report", help="report path (default: EXPORT_DIR/embed_tokens_parity.json)")
    args = ap.parse_args()
    tol = 0.0 if args.exact else args.rel_tol

    report_path = args.report or os.path.join(args.export_dir, "embed_tokens_parity.json")
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    tensors = checkpoint_tensors(args.model_dir)
    name = args.tensor or report.get("info", {}).get("tensor")
    if name is None:
        found = [n for n in KNOWN_TABLE_NAMES if n in tensors]
        if len(found) != 1:
            fail(f"{args.model_dir}: cannot pick the table (known names present: {found}); pass --tensor")
        name = found[0]
    if name not in tensors:
        fail(f"{args.model_dir}: no tensor '{name}' in the checkpoint")
    w, src_dtype = load_table(tensors[name], name)
    if not np.isfinite(w).all():
        fail(f"{tensors[name]}: '{name}' holds non-finite values (an input error per SPEC §4)")
    V, D = w.shape
    print(f"table {name} {src_dtype} [{V}, {D}] from {os.path.relpath(tensors[name])}")

    problems: list[str] = []
    info = report.get("info", {})
    expect_info = {"vocab_size": V, "hidden_size": D, "embed_attr": name[:-len(".weight")] if name.endswith(".weight") else name}
    for k, v in expect_info.items():
        if info.get(k) != v:
            problems.append(f"report info.{k} = {info.get(k)!r}, expected {v!r}")

    ids = [i for i in SAMPLE_CANDIDATES + [V - 1] if 0 <= i < V]
    if "sample_ids" in report and report["sample_ids"] != ids:
        problems.append(f"report sample_ids {report['sample_ids']}, expected {ids}")
    ref_rows = w[np.array(ids, dtype=np.int64)][None, :, :]

    tiers = report.get("tiers", {})
    if not tiers:
        problems.append("report lists no tiers")
    lines = []
    for tier in tiers:
        if tier not in TIER_FILES:
            print(f"{tier:>6}: not a tier this checker knows; skipped")
            continue
        path = os.path.join(args.export_dir, TIER_FILES[tier])
        if not os.path.exists(path):
            fail(f"report lists tier {tier} but {path} does not exist")
        inits = load_initializers(path)
        stats_line = None
        if tier == "fp32":
            stored = stored_array(path, inits, "embed_tokens.weight", w, ONNX_FLOAT)
            out = stored[ids][None]
        elif tier == "fp16w":
            with np.errstate(over="ignore"):
                w16 = w.astype(np.float16)
            stored = stored_array(path, inits, "embed_tokens.weight", w16, ONNX_FLOAT16)
            out = stored[ids].astype(np.float32)[None]
        else:
            int_w, scales = per_row_int8_quantise(w)
            q = stored_array(path, inits, "embed_tokens.weight_int8", int_w, ONNX_INT8)
            s = stored_array(path, inits, "embed_tokens.scales", scales, ONNX_FLOAT)
            stored_array(path, inits, "EmbedTokens_unsqueeze_axes", np.array([-1], dtype=np.int64), ONNX_INT64)
            # The original's table statistics, on numpy's own arrays (equal to the stored ones).
            recon = int_w.astype(np.float32) * scales[:, None]
            err = np.abs(recon - w.astype(np.float32))
            qs = error_stats(err)
            del recon, err
            rep = report.get("int8_table_quant_stats")
            if rep is None:
                problems.append("report lacks int8_table_quant_stats")
            else:
                frag = compare_stats("int8_table_quant_stats", rep, qs, problems, tol)
                stats_line = (f"  int8 table stats: max {qs['max_abs_err']:.6e} mean {qs['mean_abs_err']:.6e} "
                             f"p99 {qs['p99_abs_err']:.6e} | report vs numpy: {frag}")
            # What ONNX Runtime computes: Cast(int8 -> float32) * Unsqueeze(scale), float32.
            out = (q[ids].astype(np.float32) * s[ids][:, None])[None]
        # Parity as the original: |out - W[ids]|, numpy max/mean/quantile.
        diff = np.abs(out - ref_rows)
        ps = error_stats(diff)
        rp = report.get("parity", {}).get(tier)
        if rp is None:
            problems.append(f"report lacks parity.{tier}")
            frag = "missing"
        else:
            if rp.get("shape") != list(diff.shape):
                problems.append(f"parity.{tier}.shape = {rp.get('shape')}, expected {list(diff.shape)}")
            if rp.get("dtype") != "float32":
                problems.append(f"parity.{tier}.dtype = {rp.get('dtype')!r}, expected 'float32'")
            frag = compare_stats(f"parity.{tier}", rp, ps, problems, tol)
        lines.append(f"{tier:>6}: bytes == numpy ({os.path.basename(path)}); parity max {ps['max_abs_err']:.3e} "
                     f"mean {ps['mean_abs_err']:.3e} p99 {ps['p99_abs_err']:.3e} | report vs numpy: {frag}")
        if stats_line:
            lines.append(stats_line)
    for line in lines:
        print(line)
    if problems:
        for p in problems:
            print(f"MISMATCH: {p}", file=sys.stderr)
        return 1
    print(f"check_numpy: ok ({', '.join(t for t in tiers if t in TIER_FILES)}; numpy {np.__version__})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckError as e:
        print(f"check_numpy: MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, ValueError, KeyError) as e:  # unreadable or malformed input
        print(f"check_numpy: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
