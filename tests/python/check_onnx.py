"""The official ONNX checker on exported graphs, as the original script ran it.

usage: check_onnx.py [--hidden D] PATH...   (a PATH may be a folder: every *.onnx in it)

Per file:
  1. onnx.checker.check_model(path, full_check=True): the model, its opset, its external
     data (location inside the folder, lengths) and onnx's own shape inference in strict
     mode.
  2. Strict shape inference on a copy whose graph outputs carry no shape, so that the
     shape of inputs_embeds must be inferred from the nodes (inference keeps a declared
     output shape it cannot infer): it must come out [B, N, D].
Prints one line per file; exits 1 if any file fails, 2 on bad usage.
"""

import argparse
import os
import sys

import onnx
from onnx import shape_inference


def onnx_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith(".onnx"):
                    yield os.path.join(p, name)
        else:
            yield p


def dims_of(value_info):
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField("dim_param"):
            out.append(d.dim_param)
        elif d.HasField("dim_value"):
            out.append(d.dim_value)
        else:
            out.append("?")
    return out


def check(path, hidden):
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    declared = {o.name: dims_of(o) for o in model.graph.output}
    for o in model.graph.output:
        o.type.tensor_type.ClearField("shape")
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    problems = []
    for o in inferred.graph.output:
        got = dims_of(o)
        want = declared.get(o.name)
        if o.name == "inputs_embeds":
            d = hidden if hidden else (want[-1] if want else None)
            want = ["B", "N", d]
        if got != want:
            problems.append(f"output {o.name}: inferred shape {got}, expected {want}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=0, help="expected D of inputs_embeds (default: as declared)")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    files = list(onnx_files(args.paths))
    if not files:
        print("check_onnx: no .onnx file in " + " ".join(args.paths), file=sys.stderr)
        return 2
    failed = 0
    for f in files:
        try:
            problems = check(f, args.hidden)
        except Exception as e:  # the checker's own exceptions name what is wrong
            problems = [f"{type(e).__name__}: {e}".splitlines()[0]]
        if problems:
            failed += 1
            for p in problems:
                print(f"check_onnx: {f}: {p}", file=sys.stderr)
        else:
            print(f"check_onnx: {f}: ok (onnx {onnx.__version__}, full_check, inferred [B, N, D])")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
