#!/usr/bin/env bash
# make bench: the int4 tier against llama.cpp's 4-bit formats, error per bit (docs/int4.md).
#
#   bash bench/int4_error.sh [BUILD]
#
# Two seeded 16384 x 2048 bf16 tables (bench/int4_table.py: Student-t with 4 degrees of
# freedom, and N(0, 1), each x 0.02 x a log-normal row scale, sigma 0.5), exported with
# `--tiers int4`, every row run through ONNX Runtime (bench/int4_error.py). The ggml
# rows are figures, not a run: ggml is not built here (see docs/int4.md for how they were
# measured, on these same tables). Then the [1, 1] lookup of int4 against fp16w in ONNX
# Runtime, interleaved (bench/int4_lookup.mjs; needs make npm-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PY=tests/python/.venv/bin/python
[ -x "$PY" ] || { echo "int4_error: $PY missing (make venv)" >&2; exit 2; }
WORK=$BUILD/bench/int4_error
mkdir -p "$WORK"
declare -A RESULT
for kind in heavy normal; do
  [ -f "$WORK/$kind/table.f32" ] || /usr/bin/python3 bench/int4_table.py "$kind" 16384 2048 2026 "$WORK/$kind"
  rm -rf "$WORK/$kind/out"
  "$BUILD/embed2onnx" export --model-dir "$WORK/$kind" --out-dir "$WORK/$kind/out" --tiers fp16w,int4 --no-splice -q
  RESULT[$kind]=$("$PY" bench/int4_error.py "$WORK/$kind/out" "$WORK/$kind/table.f32" 16384 2048)
done
"$PY" - "${RESULT[heavy]}" "${RESULT[normal]}" <<'PYEOF'
import json, sys
h, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# ggml d99724f2 (ggml_quantize_chunk, no imatrix), on the same two tables; docs/int4.md.
ggml = [("q4_0", 4.5, 4.193789e-3, 2.201980e-3, 0.993385, 0.996318),
        ("q4_1", 5.0, 3.395805e-3, 2.004356e-3, 0.995662, 0.996960),
        ("iq4_nl", 4.5, 3.386068e-3, 1.950927e-3, 0.995670, 0.997103),
        ("q4_K", 4.5, 3.141489e-3, 1.828064e-3, 0.996257, 0.997455)]
print("| format | bits/value | RMSE heavy | RMSE normal | mean row cosine heavy / normal |")
print("|---|---|---|---|---|")
print(f"| ours int4 (ONNX Runtime) | {h['bits_per_value']:.4f} | {h['rmse']:.4e} | {n['rmse']:.4e} | {h['cosine']:.6f} / {n['cosine']:.6f} |")
for name, bits, rh, rn, ch, cn in ggml:
    print(f"| {name} (ggml, recorded) | {bits} | {rh:.4e} | {rn:.4e} | {ch:.6f} / {cn:.6f} |")
k = ggml[-1]
ok = h["bits_per_value"] <= 4.5 and n["bits_per_value"] <= 4.5 and h["rmse"] <= k[2] and n["rmse"] <= k[3] \
    and h["cosine"] >= k[4] and n["cosine"] >= k[5]
print(f"int4 vs q4_K: RMSE {h['rmse'] / k[2]:.3f}x / {n['rmse'] / k[3]:.3f}x, "
      f"{'meets' if ok else 'MISSES'} <= 4.5 bits, RMSE <= q4_K, cosine >= q4_K on both")
PYEOF
node bench/int4_lookup.mjs --fp16w "$WORK/heavy/out/embed_tokens_fp16w.onnx" \
  --int4 "$WORK/heavy/out/embed_tokens_int4.onnx" --vocab 16384
