#!/usr/bin/env bash
# Provenance (SPEC §10): every graph in an export folder (each tier, and any splice graph)
# carries metadata_props that ONNX Runtime's Python API reads back as custom_metadata_map:
# tool and version, tier (int4 with its block), the source tensor, dtype and shape, and the
# checkpoint's folder name, never an absolute path of this machine. Generic and preset mode.
source "$(dirname "$0")/lib/common.sh" "$@"
need_venv

check() {  # export dir, checkpoint name, tensor, V, D, dtype, tiers expected...
  "$VENV_PY" - "$@" "$WORK" <<'PY'
import glob, os, sys
import onnxruntime as ort
d, name, tensor, v, dim, dtype, *tiers, work = sys.argv[1:]
files = {"fp32": "embed_tokens.onnx", "fp16w": "embed_tokens_fp16w.onnx", "bf16w": "embed_tokens_bf16w.onnx",
         "int8": "embed_tokens_int8.onnx", "int4": "embed_tokens_int4.onnx"}
graphs = sorted(glob.glob(os.path.join(d, "*.onnx")))
assert len(graphs) >= len(tiers), graphs
seen = set()
for g in graphs:
    meta = ort.InferenceSession(g, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    base = os.path.basename(g)
    tier = meta.get("tier")
    assert tier in tiers, (base, meta)
    assert base == files[tier] or base.startswith(files[tier][:-5] + "_"), (base, tier)  # plain or splice
    want = {"tool": "embed2onnx", "source_tensor": tensor, "source_dtype": dtype,
            "source_shape": f"[{v}, {dim}]", "checkpoint": name}
    for k, val in want.items():
        assert meta.get(k) == val, (base, k, meta.get(k), val)
    assert meta.get("tool_version"), meta
    if tier == "int4":
        assert int(meta["int4_block"]) == 32, meta
    for k, val in meta.items():
        assert not val.startswith("/") and work not in val and os.path.expanduser("~") not in val, (base, k, val)
    seen.add(tier)
    print(f"  {base}: " + ", ".join(f"{k}={val}" for k, val in meta.items()))
assert seen == set(tiers), (seen, tiers)
PY
}

"$E2O_GEN" --out "$WORK/my-llm" --vocab 700 --hidden 64 --dtype f16 --seed 41 --tensor model.embed_tokens.weight >/dev/null
"$E2O_BIN" export --quiet --model-dir "$WORK/my-llm" --out-dir "$WORK/out"
echo "generic mode:"
check "$WORK/out" my-llm model.embed_tokens.weight 700 64 F16 fp32 fp16w bf16w int8 int4

ROOT="$WORK/root"
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden 64 --seed 42 >/dev/null
"$E2O_BIN" export --quiet --variant base --root "$ROOT" --tiers fp16w,int4
echo "preset mode:"
check "$ROOT/exports/granite-speech-4.1-2b" granite-speech-4.1-2b language_model.model.embed_tokens.weight \
  100353 64 BF16 fp16w int4
echo "provenance: ok"
