#!/usr/bin/python3
"""The original export_embed_tokens.py pipeline, without its model load.

The seed script (SPEC "source document") loads the whole model through transformers
in fp32 to read one table, then builds and saves three ONNX graphs with the onnx
Python package. This file keeps everything after the load exactly as the seed wrote
it -- the graph builders, `_per_row_int8_quantise`, the table statistics
(np.quantile), `onnx.save_model(..., size_threshold=1024, ...)`, node, graph and
initializer names, producer fields, tier order and the report -- and replaces only
the load with a plain numpy read of the tensor from the safetensors file(s). The
table still becomes one float32 array in memory, as after the seed's
`embed.weight.to(torch.float32).numpy()`.

It serves two purposes: the baseline of `make bench`, and "an export made by the
original script" for tests (Cast before Gather in fp16w, sidecar offsets as the onnx
package lays them out, i.e. unaligned).

Two steps of the seed are replaced, because Debian's python3-onnx is 1.12:
- `onnx.checker.check_model` is skipped (onnx 1.12 does not know IR version 10);
- the parity step runs the saved graphs in ONNX Runtime through Node
  (tests/ort/run_graph.mjs) when Python has no onnxruntime, or, with
  `--parity numpy`, evaluates each saved graph with numpy on the sample rows it
  reads back from the sidecar. The reference is, as in the seed, the float32 table
  gathered at the sample ids (what nn.Embedding returns).

Usage (Debian: python3-numpy, python3-onnx):
  /usr/bin/python3 bench/original_export.py --model-dir D --out-dir O
      [--tensor NAME] [--tiers fp32,int8,fp16w] [--variant NAME] [--parity auto|python|node|numpy|none]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
RUN_GRAPH = HERE.parent / "tests" / "ort" / "run_graph.mjs"

# Names of token-embedding tables, best first (the seed knew only the Granite ones).
WELL_KNOWN_TABLES = [
    "language_model.model.embed_tokens.weight",
    "llm.model.embed_tokens.weight",
    "model.embed_tokens.weight",
    "model.language_model.embed_tokens.weight",
    "language_model.embed_tokens.weight",
    "transformer.wte.weight",
    "model.decoder.embed_tokens.weight",
    "gpt_neox.embed_in.weight",
    "transformer.word_embeddings.weight",
    "model.embed_in.weight",
    "tok_embeddings.weight",
    "model.tok_embeddings.weight",
    "transformer.embedding.word_embeddings.weight",
]

# ---------------------------------------------------------------------------
# The load, replaced: one tensor from safetensors, widened to float32
# ---------------------------------------------------------------------------


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def _tensor_file(model_dir: Path, tensor: str | None) -> tuple[Path, str]:
    index = model_dir / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        names = list(weight_map)
        file_of = lambda name: model_dir / weight_map[name]  # noqa: E731
    else:
        single = model_dir / "model.safetensors"
        if not single.exists():
            found = sorted(model_dir.glob("*.safetensors"))
            if len(found) != 1:
                raise SystemExit(f"{model_dir}: no model.safetensors and no index")
            single = found[0]
        names = [k for k in _read_header(single)[0] if k != "__metadata__"]
        file_of = lambda name: single  # noqa: E731
    if tensor is None:
        present = [n for n in WELL_KNOWN_TABLES if n in names]
        if not present:
            raise SystemExit(f"{model_dir}: no well-known embedding table; pass --tensor")
        tensor = present[0]
    if tensor not in names:
        raise SystemExit(f"{model_dir}: no tensor '{tensor}'")
    return file_of(tensor), tensor


def load_embed_tokens(model_dir: Path, tensor: str | None, variant: str | None) -> tuple[np.ndarray, dict[str, Any]]:
    path, name = _tensor_file(model_dir, tensor)
    print(f"  reading {name} from {path} (numpy, no model load)")
    t0 = time.time()
    header, data_start = _read_header(path)
    entry = header[name]
    dtype, shape = entry["dtype"], [int(x) for x in entry["shape"]]
    begin, end = (int(x) for x in entry["data_offsets"])
    if len(shape) != 2:
        raise SystemExit(f"{path}: '{name}' has shape {shape}, expected [V, D]")
    count = shape[0] * shape[1]
    storage = {"BF16": np.uint16, "F16": np.float16, "F32": np.float32}.get(dtype)
    if storage is None:
        raise SystemExit(f"{path}: '{name}' has dtype {dtype}, expected BF16, F16 or F32")
    if end - begin != count * np.dtype(storage).itemsize:
        raise SystemExit(f"{path}: '{name}' data_offsets {entry['data_offsets']} do not match {shape} {dtype}")
    raw = np.fromfile(path, dtype=np.dtype(storage).newbyteorder("<"), count=count, offset=data_start + begin)
    if dtype == "BF16":
        bits = raw.astype(np.uint32)
        del raw
        bits <<= 16
        weight = bits.view(np.float32)
    else:
        weight = raw.astype(np.float32)
        del raw
    weight = weight.reshape(shape)
    info = {
        "variant": variant,
        "embed_attr": name[: -len(".weight")] if name.endswith(".weight") else name,
        "vocab_size": int(weight.shape[0]),
        "hidden_size": int(weight.shape[1]),
    }
    print(f"  read in {time.time() - t0:.1f}s")
    print(f"  embed_tokens.weight shape={list(weight.shape)} dtype={weight.dtype}")
    return weight, info


# ---------------------------------------------------------------------------
# Graph builders (the seed's, unchanged but for the skipped checker)
# ---------------------------------------------------------------------------


def _make_input(name: str, dtype: int, shape: list[Any]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def _save_with_single_sidecar(model: onnx.ModelProto, out_path: Path) -> None:
    sidecar = out_path.name + "_data"
    if (out_path.parent / sidecar).exists():
        (out_path.parent / sidecar).unlink()
    if out_path.exists():
        out_path.unlink()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(
        model,
        str(out_path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=sidecar,
        size_threshold=1024,
        convert_attribute=False,
    )
    # The seed runs onnx.checker.check_model(str(out_path), full_check=False) here;
    # onnx 1.12 rejects ir_version 10, so it is skipped.


def _opset_imports() -> list[onnx.OperatorSetIdProto]:
    return [helper.make_opsetid("", 20)]


def _producer() -> dict[str, str]:
    return {
        "producer_name": "granite-speech-4.1-onnx",
        "producer_version": "embed_tokens-1",
    }


def build_fp32(weight: np.ndarray) -> onnx.ModelProto:
    """Single Gather op over the FP32 weight."""
    weight_init = numpy_helper.from_array(weight.astype(np.float32, copy=False), name="embed_tokens.weight")
    input_ids = _make_input("input_ids", TensorProto.INT64, ["B", "N"])
    output = _make_input("inputs_embeds", TensorProto.FLOAT, ["B", "N", weight.shape[1]])
    gather = helper.make_node(
        "Gather",
        inputs=["embed_tokens.weight", "input_ids"],
        outputs=["inputs_embeds"],
        axis=0,
        name="EmbedTokens_Gather",
    )
    graph = helper.make_graph(
        [gather],
        "embed_tokens_fp32",
        [input_ids],
        [output],
        [weight_init],
    )
    model = helper.make_model(
        graph,
        opset_imports=_opset_imports(),
        ir_version=10,
        **_producer(),
    )
    return model


def build_fp16w(weight: np.ndarray) -> onnx.ModelProto:
    """Weight stored as FP16; Cast(FP16->FP32) before Gather. Output is FP32."""
    weight_fp16 = weight.astype(np.float16, copy=False)
    weight_init = numpy_helper.from_array(weight_fp16, name="embed_tokens.weight")
    input_ids = _make_input("input_ids", TensorProto.INT64, ["B", "N"])
    output = _make_input("inputs_embeds", TensorProto.FLOAT, ["B", "N", weight.shape[1]])
    cast_node = helper.make_node(
        "Cast",
        inputs=["embed_tokens.weight"],
        outputs=["embed_tokens.weight_fp32"],
        to=TensorProto.FLOAT,
        name="EmbedTokens_Cast_fp16w",
    )
    gather = helper.make_node(
        "Gather",
        inputs=["embed_tokens.weight_fp32", "input_ids"],
        outputs=["inputs_embeds"],
        axis=0,
        name="EmbedTokens_Gather",
    )
    graph = helper.make_graph(
        [cast_node, gather],
        "embed_tokens_fp16w",
        [input_ids],
        [output],
        [weight_init],
    )
    model = helper.make_model(
        graph,
        opset_imports=_opset_imports(),
        ir_version=10,
        **_producer(),
    )
    return model


def _per_row_int8_quantise(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row INT8 quantisation. Returns (int8_weight, fp32_scales)."""
    if weight.dtype != np.float32:
        weight = weight.astype(np.float32, copy=False)
    abs_max = np.maximum(np.abs(weight).max(axis=1), 1e-12)
    scales = (abs_max / 127.0).astype(np.float32)
    int_w = np.round(weight / scales[:, None])
    int_w = np.clip(int_w, -127, 127).astype(np.int8)
    return int_w, scales


def build_int8(weight: np.ndarray) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """Per-row INT8 weights. The graph dequantises only rows actually gathered."""
    int8_w, scales = _per_row_int8_quantise(weight)

    # Reconstruction error stats (on the full table; consumers gather a subset).
    recon = int8_w.astype(np.float32) * scales[:, None]
    err = np.abs(recon - weight.astype(np.float32))
    quant_stats = {
        "max_abs_err": float(err.max()),
        "mean_abs_err": float(err.mean()),
        "p99_abs_err": float(np.quantile(err, 0.99)),
    }
    print(
        f"  int8 quant per-row: max_abs_err={quant_stats['max_abs_err']:.3e} "
        f"mean={quant_stats['mean_abs_err']:.3e} p99={quant_stats['p99_abs_err']:.3e}"
    )

    weight_int8_init = numpy_helper.from_array(int8_w, name="embed_tokens.weight_int8")
    scales_init = numpy_helper.from_array(scales, name="embed_tokens.scales")
    axes_init = numpy_helper.from_array(np.array([-1], dtype=np.int64), name="EmbedTokens_unsqueeze_axes")

    input_ids = _make_input("input_ids", TensorProto.INT64, ["B", "N"])
    output = _make_input("inputs_embeds", TensorProto.FLOAT, ["B", "N", weight.shape[1]])

    nodes = [
        helper.make_node(
            "Gather",
            inputs=["embed_tokens.weight_int8", "input_ids"],
            outputs=["embed_tokens.weight_int8_gathered"],
            axis=0,
            name="EmbedTokens_Gather_weight",
        ),
        helper.make_node(
            "Cast",
            inputs=["embed_tokens.weight_int8_gathered"],
            outputs=["embed_tokens.weight_fp32_gathered"],
            to=TensorProto.FLOAT,
            name="EmbedTokens_Cast_int8_to_fp32",
        ),
        helper.make_node(
            "Gather",
            inputs=["embed_tokens.scales", "input_ids"],
            outputs=["embed_tokens.scales_gathered"],
            axis=0,
            name="EmbedTokens_Gather_scales",
        ),
        helper.make_node(
            "Unsqueeze",
            inputs=["embed_tokens.scales_gathered", "EmbedTokens_unsqueeze_axes"],
            outputs=["embed_tokens.scales_expanded"],
            name="EmbedTokens_Unsqueeze_scales",
        ),
        helper.make_node(
            "Mul",
            inputs=["embed_tokens.weight_fp32_gathered", "embed_tokens.scales_expanded"],
            outputs=["inputs_embeds"],
            name="EmbedTokens_Mul",
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "embed_tokens_int8",
        [input_ids],
        [output],
        [weight_int8_init, scales_init, axes_init],
    )
    model = helper.make_model(
        graph,
        opset_imports=_opset_imports(),
        ir_version=10,
        **_producer(),
    )
    return model, quant_stats


# ---------------------------------------------------------------------------
# Parity
# ---------------------------------------------------------------------------


def _run_python_ort(path: Path, ids: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), ort.SessionOptions(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": ids})[0]


def _run_node_ort(path: Path, ids: np.ndarray, D: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.bin"
        subprocess.run(
            ["node", str(RUN_GRAPH), str(path), json.dumps(ids.tolist()), str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )
        return np.fromfile(out, dtype="<f4").reshape(ids.shape + (D,))


def _run_numpy(path: Path, ids: np.ndarray) -> np.ndarray:
    """Evaluates the saved graph with numpy, reading only the gathered rows back."""
    model = onnx.load(str(path), load_external_data=False)

    def rows(name: str) -> np.ndarray:
        init = next(t for t in model.graph.initializer if t.name == name)
        dtype = np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[init.data_type]).newbyteorder("<")
        dims = list(init.dims)
        if init.data_location != TensorProto.EXTERNAL:
            return numpy_helper.to_array(init)[ids]
        ext = {kv.key: kv.value for kv in init.external_data}
        row = int(np.prod(dims[1:], dtype=np.int64)) * dtype.itemsize
        out = np.empty(ids.shape + tuple(dims[1:]), dtype=dtype)
        with open(path.parent / ext["location"], "rb") as f:
            for idx, i in np.ndenumerate(ids):
                f.seek(int(ext.get("offset", 0)) + int(i) * row)
                out[idx] = np.frombuffer(f.read(row), dtype=dtype).reshape(dims[1:])
        return out

    name = model.graph.name
    if name in ("embed_tokens_fp32", "embed_tokens_fp16w"):
        # Cast then Gather == Gather then Cast, elementwise.
        return rows("embed_tokens.weight").astype(np.float32)
    if name == "embed_tokens_int8":
        return rows("embed_tokens.weight_int8").astype(np.float32) * rows("embed_tokens.scales")[..., None]
    raise SystemExit(f"{path}: unknown graph {name}")


def _parity_mode(requested: str) -> str:
    if requested != "auto":
        return requested
    try:
        import onnxruntime  # noqa: F401
        return "python"
    except ImportError:
        pass
    if shutil.which("node") and (RUN_GRAPH.parent / "node_modules" / "onnxruntime-node").exists():
        return "node"
    return "numpy"


def parity_check(weight: np.ndarray, out_paths: dict[str, Path], mode: str) -> dict[str, Any]:
    # Reference: what nn.Embedding returns, the float32 table gathered at the sample ids.
    V = int(weight.shape[0])
    candidates = [0, 1, 100, 1024, 50000, 100352, 100351, V - 1]
    ids_np = np.array([[i for i in candidates if 0 <= i < V]], dtype=np.int64)
    ref = weight[ids_np]
    print(f"  parity via {mode}")
    results: dict[str, Any] = {}
    for tier, path in out_paths.items():
        if not path.exists():
            continue
        if mode == "python":
            got = _run_python_ort(path, ids_np)
        elif mode == "node":
            got = _run_node_ort(path, ids_np, int(weight.shape[1]))
        else:
            got = _run_numpy(path, ids_np)
        diff = np.abs(got - ref)
        results[tier] = {
            "shape": list(got.shape),
            "dtype": str(got.dtype),
            "max_abs_err": float(diff.max()),
            "mean_abs_err": float(diff.mean()),
            "p99_abs_err": float(np.quantile(diff, 0.99)),
        }
        print(
            f"  parity {tier:>5}: shape={list(got.shape)} max_abs_err={diff.max():.3e} "
            f"mean={diff.mean():.3e}"
        )
    return results


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def export(model_dir: Path, out_dir: Path, tensor: str | None, variant: str | None, tiers: list[str],
           parity_mode: str) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"\n=== exporting embed_tokens from '{model_dir}' ===")
    phase = time.time()
    weight, info = load_embed_tokens(model_dir, tensor, variant)
    timings = {"read": time.time() - phase}

    out_paths: dict[str, Path] = {}
    quant_stats: dict[str, Any] | None = None

    if "fp32" in tiers:
        phase = time.time()
        out = out_dir / "embed_tokens.onnx"
        print(f"  -> {out}")
        model = build_fp32(weight)
        _save_with_single_sidecar(model, out)
        out_paths["fp32"] = out
        print(f"     {out.name} ({out.stat().st_size / 1e6:.1f} MB onnx, {(out.parent / (out.name + '_data')).stat().st_size / 1e9:.2f} GB sidecar)")
        timings["fp32"] = time.time() - phase

    if "fp16w" in tiers:
        phase = time.time()
        out = out_dir / "embed_tokens_fp16w.onnx"
        print(f"  -> {out}")
        model = build_fp16w(weight)
        _save_with_single_sidecar(model, out)
        out_paths["fp16w"] = out
        print(f"     {out.name} ({(out.parent / (out.name + '_data')).stat().st_size / 1e9:.2f} GB sidecar)")
        timings["fp16w"] = time.time() - phase

    if "int8" in tiers:
        phase = time.time()
        out = out_dir / "embed_tokens_int8.onnx"
        print(f"  -> {out}")
        model, quant_stats = build_int8(weight)
        _save_with_single_sidecar(model, out)
        out_paths["int8"] = out
        print(f"     {out.name} ({(out.parent / (out.name + '_data')).stat().st_size / 1e9:.2f} GB sidecar)")
        timings["int8"] = time.time() - phase

    phase = time.time()
    parity = parity_check(weight, out_paths, parity_mode) if parity_mode != "none" else {}
    timings["parity"] = time.time() - phase

    summary = {
        "variant": variant,
        "info": info,
        "tiers": {tier: os.path.relpath(p, out_dir) for tier, p in out_paths.items()},
        "parity": parity,
    }
    if quant_stats is not None:
        summary["int8_table_quant_stats"] = quant_stats

    parity_path = out_dir / "embed_tokens_parity.json"
    parity_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"  wrote parity report -> {parity_path}")
    print("  phases (s): " + " ".join(f"{k}={v:.2f}" for k, v in timings.items()))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, type=Path,
                        help="model.safetensors, or model.safetensors.index.json + shards")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--tensor", default=None, help="table tensor name (default: a well-known name)")
    parser.add_argument("--variant", default=None, help="variant name written in the report (default: null)")
    parser.add_argument(
        "--tiers",
        default="fp32,int8,fp16w",
        help="comma-separated subset of fp32,int8,fp16w (default: all three)",
    )
    parser.add_argument("--parity", choices=["auto", "python", "node", "numpy", "none"], default="auto",
                        help="how to run the saved graphs: python onnxruntime, Node ONNX Runtime, numpy "
                             "on the stored rows, or not at all (default: the first available)")
    args = parser.parse_args()
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    invalid = sorted(set(tiers) - {"fp32", "int8", "fp16w"})
    if invalid:
        raise SystemExit(f"unknown tiers: {invalid}")
    export(args.model_dir, args.out_dir, args.tensor, args.variant, tiers, _parity_mode(args.parity))
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    raise SystemExit(main())
