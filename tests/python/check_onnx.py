"""The official ONNX checker on exported graphs, as the original script ran it.

usage: check_onnx.py [--hidden D] [--exclude GLOB]... PATH...
  A PATH may be a folder: every *.onnx under it, subfolders included (symlinked folders
  are not followed), except those whose path relative to that folder matches an
  --exclude glob (fnmatch; hostile or broken files a test writes on purpose).

Per file:
  1. onnx.checker.check_model(path, full_check=True): the model, its opset, its external
     data (location inside the folder, lengths) and onnx's own shape inference in strict
     mode.
  2. The interface: input_ids INT64 [B, N]; a splice graph (SPEC §8) also takes
     audio_features [A, D] and/or image_features [I, D] of the output's element type with
     A and I symbolic; no other input.
  3. Strict shape inference on a copy whose graph outputs carry no shape, so that the
     shape of inputs_embeds must be inferred from the nodes (inference keeps a declared
     output shape it cannot infer): it must come out [B, N, D].
Prints one line per file; exits 1 if any file fails, 2 on bad usage or when the PATHs
hold no .onnx at all (a sweep that checks nothing is a broken test).
"""

import argparse
import fnmatch
import os
import sys

import onnx
from onnx import TensorProto, shape_inference


def onnx_files(paths, excludes):
    """(path, skipped) for every .onnx named or found under a folder, sorted per folder."""
    for p in paths:
        if not os.path.isdir(p):
            yield p, False
            continue
        found = []
        for root, dirs, names in os.walk(p):
            dirs.sort()
            for name in names:
                if name.endswith(".onnx"):
                    found.append(os.path.join(root, name))
        for f in sorted(found):
            rel = os.path.relpath(f, p)
            yield f, any(fnmatch.fnmatchcase(rel, g) for g in excludes)


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


def interface_problems(model, d):
    problems = []
    inputs = {i.name: i for i in model.graph.input}
    # The feature inputs have inputs_embeds' element type: FLOAT, or FLOAT16 with --output-dtype float16.
    outs = [o for o in model.graph.output if o.name == "inputs_embeds"]
    out_type = outs[0].type.tensor_type.elem_type if outs else TensorProto.FLOAT
    if out_type not in (TensorProto.FLOAT, TensorProto.FLOAT16):
        problems.append(f"output inputs_embeds: element type {out_type}, expected FLOAT or FLOAT16")
    want_types = {"input_ids": TensorProto.INT64, "image_features": out_type, "audio_features": out_type}
    for name in inputs:
        if name not in want_types:
            problems.append(f"unexpected input {name}")
    if "input_ids" not in inputs:
        problems.append("no input input_ids")
    for name, want_type in want_types.items():
        if name not in inputs:
            continue
        vi = inputs[name]
        if vi.type.tensor_type.elem_type != want_type:
            problems.append(f"input {name}: element type {vi.type.tensor_type.elem_type}, "
                            f"expected {want_type}")
        got = dims_of(vi)
        if name == "input_ids" and got != ["B", "N"]:
            problems.append(f"input input_ids: shape {got}, expected ['B', 'N']")
        symbolic_a = bool(got) and isinstance(got[0], str) and got[0] != "?"
        if name.endswith("_features") and not (symbolic_a and len(got) == 2 and got[1] == d):
            problems.append(f"input {name}: shape {got}, expected [count, {d}] with the count symbolic")
    return problems


def check_here(name, hidden):
    """Checks the file `name` in the current folder: onnx resolves external data relative
    to the model's folder, and a relative name keeps paths that are not UTF-8 out of the
    checker's C++ strings."""
    onnx.checker.check_model(name, full_check=True)
    model = onnx.load(name, load_external_data=False)
    declared = {o.name: dims_of(o) for o in model.graph.output}
    out = declared.get("inputs_embeds")
    d = hidden if hidden else (out[-1] if out else None)
    problems = interface_problems(model, d)
    if list(declared) != ["inputs_embeds"]:
        problems.append(f"outputs {list(declared)}, expected ['inputs_embeds']")
    for o in model.graph.output:
        o.type.tensor_type.ClearField("shape")
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    for o in inferred.graph.output:
        got = dims_of(o)
        want = ["B", "N", d] if o.name == "inputs_embeds" else declared.get(o.name)
        if got != want:
            problems.append(f"output {o.name}: inferred shape {got}, expected {want}")
    return problems


def check(path, hidden):
    """Problems found in the graph at `path` (empty when it passes)."""
    here = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(path)))
    try:
        return check_here(os.path.basename(path), hidden)
    finally:
        os.chdir(here)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=0,
                    help="expected D of inputs_embeds (default: as declared)")
    ap.add_argument("--exclude", action="append", default=[],
                    help="glob of files under a folder to leave out")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    files = list(onnx_files(args.paths, args.exclude))
    checked = [f for f, skipped in files if not skipped]
    if not checked:
        print("check_onnx: no .onnx file to check in " + " ".join(args.paths), file=sys.stderr)
        return 2
    failed = 0
    for f in checked:
        try:
            problems = check(f, args.hidden)
        except Exception as e:  # the checker's own exceptions name what is wrong
            problems = [f"{type(e).__name__}: {e}".splitlines()[0]]
        shown = os.fsencode(f).decode("utf-8", "replace")
        if problems:
            failed += 1
            for p in problems:
                print(f"check_onnx: {shown}: {p}", file=sys.stderr)
        else:
            print(f"check_onnx: {shown}: ok")
    skipped = len(files) - len(checked)
    excluded = f", {skipped} excluded on purpose" if skipped else ""
    print(f"check_onnx: onnx {onnx.__version__} check_model(full_check=True) + strict shape inference "
          f"[B, N, D]: {len(checked) - failed} of {len(checked)} files ok{excluded}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
