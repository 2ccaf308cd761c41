#!/usr/bin/env bash
# --output-dtype float16: every graph of all five tiers declares and outputs FLOAT16
# inputs_embeds, the tier's exact float32 result rounded to nearest even (fp16w: its stored
# rows, no Cast). ONNX Runtime's output is compared bit for bit with the JavaScript reference
# (check_export.mjs, whose float32 -> float16 rounding checks itself on edge values first), on
# a float32 table holding ties, subnormals, -0.0 and values beyond fp16's range, which ONNX
# Runtime's Cast turns into +-inf as numpy does; export says so in a note and the report's
# output_overflow. The report records the output type, verify checks the graphs against it,
# and the official ONNX checker accepts every graph.
source "$(dirname "$0")/lib/common.sh" "$@"
PY=${PYTHON:-/usr/bin/python3}
fail() { echo "fp16_output: $*" >&2; exit 1; }

# f32 edge rows (make_checkpoint --edge-rows): row 1 ties, row 2 subnormals, rows 4-5 -0.0,
# row 9 56 values beyond fp16's range at D = 80 (8 * 7), largest |x| 3e38. int4 is left out
# here (its figures over a 3e38 row are inf, which JSON cannot hold); the bf16 preset below
# exports all five tiers.
TIERS=fp32,fp16w,bf16w,int8
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 300 --hidden 80 --dtype f32 --edge-rows --seed 7 >/dev/null
OUT="$WORK/out"
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$OUT" --output-dtype float16 --tiers $TIERS \
  >"$WORK/export.txt" 2>"$WORK/export.err"
grep -q '^embed2onnx: output float16: 56 values of tensor .* (largest |x| 3.00000001e+38) exceed float16' \
  "$WORK/export.err" || { cat "$WORK/export.err" >&2; fail "no output overflow note"; }
grep -q "every graph outputs float16" "$WORK/export.txt" || { cat "$WORK/export.txt"; fail "summary"; }
"$PY" - "$OUT/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["output_dtype"] == "float16", r.get("output_dtype")
assert sorted(r["tiers"]) == ["bf16w", "fp16w", "fp32", "int8"], r["tiers"]
for tier, p in r["parity"].items():
    assert p["dtype"] == "float16", (tier, p)
o = r["output_overflow"]
assert o == {"count": 56, "max_abs_source": float.fromhex("0x1.c363ccp+127")}, o
PY
# The graphs in ONNX Runtime against the reference, and the report's figures.
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$CKPT" --report "$OUT/embed_tokens_parity.json" \
  --producer embed2onnx >"$WORK/check.txt" || { cat "$WORK/check.txt"; fail "check_export"; }
grep -q '^output float16' "$WORK/check.txt" || { cat "$WORK/check.txt"; fail "check_export did not check float16"; }
[[ $(grep -c '  ok  ' "$WORK/check.txt") -eq 4 ]] || { cat "$WORK/check.txt"; fail "not four tiers ok"; }
official_check --hidden 80 "$OUT" >/dev/null

# The same table exported as float32 differs only in the output: same stored bytes.
"$E2O_BIN" export -q --model-dir "$CKPT" --out-dir "$WORK/f32" --tiers $TIERS
for f in embed_tokens.onnx_data embed_tokens_fp16w.onnx_data embed_tokens_bf16w.onnx_data \
  embed_tokens_int8.onnx_data; do
  cmp "$OUT/$f" "$WORK/f32/$f" || fail "$f differs between the float32 and float16 exports"
done
"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["output_dtype"] == "float32" and "output_overflow" not in r, r' \
  "$WORK/f32/embed_tokens_parity.json"

# verify checks the graphs against the output type the report records.
"$E2O_BIN" verify "$OUT" --model-dir "$CKPT" --json >"$WORK/verify.json" || fail "verify"
"$PY" - "$WORK/verify.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["output_dtype"] == "float16", r
assert len(r["files"]) == 4 and all(f["ok"] and f["ids_evaluated"] > 0 for f in r["files"]), r["files"]
PY
# A float16 graph in a folder whose report says float32 (or says nothing) is refused.
cp -r "$OUT" "$WORK/lie"
"$PY" - "$WORK/lie/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["output_dtype"] = "float32"
json.dump(r, open(sys.argv[1], "w"))
PY
rc=0
"$E2O_BIN" verify "$WORK/lie" --model-dir "$CKPT" >/dev/null 2>"$WORK/lie.err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "output 'inputs_embeds': expected element type FLOAT$" "$WORK/lie.err" \
  || { cat "$WORK/lie.err" >&2; fail "verify accepted float16 graphs under a float32 report (exit $rc)"; }
# A wrong overflow count is refused, naming the key.
cp -r "$OUT" "$WORK/count"
"$PY" - "$WORK/count/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["output_overflow"]["count"] = 55
json.dump(r, open(sys.argv[1], "w"))
PY
rc=0
"$E2O_BIN" verify "$WORK/count" --model-dir "$CKPT" >/dev/null 2>"$WORK/count.err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "the report's output_overflow count 55 does not match the table (56 values" "$WORK/count.err" \
  || { cat "$WORK/count.err" >&2; fail "verify accepted a wrong output_overflow (exit $rc)"; }
# A float32 export under a report claiming float16 is refused the other way round.
"$PY" - "$WORK/f32/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["output_dtype"] = "float16"
json.dump(r, open(sys.argv[1], "w"))
PY
rc=0
"$E2O_BIN" verify "$WORK/f32" --model-dir "$CKPT" >/dev/null 2>"$WORK/f32.err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "expected element type FLOAT16" "$WORK/f32.err" \
  || { cat "$WORK/f32.err" >&2; fail "verify accepted float32 graphs under a float16 report (exit $rc)"; }

# A bf16 table (Granite's dtype, edge rows: subnormal ties, -0.0, 65280) fits fp16's range:
# no note, no output_overflow. All five tiers, and the presets take the option too.
"$E2O_GEN" --out "$WORK/root/models/granite-speech-4.1-2b" --vocab 400 --hidden 64 --edge-rows \
  --tensor language_model.model.embed_tokens.weight --seed 9 >/dev/null
"$E2O_BIN" export --variant base --root "$WORK/root" --output-dtype float16 >/dev/null 2>"$WORK/bf16.err"
[[ ! -s "$WORK/bf16.err" ]] || { cat "$WORK/bf16.err" >&2; fail "unexpected notes for a bf16 table"; }
EXP="$WORK/root/exports/granite-speech-4.1-2b"
"$NODE" "$CHECK" --export-dir "$EXP" --model-dir "$WORK/root/models/granite-speech-4.1-2b" \
  --report "$EXP/embed_tokens_parity.json" --tiers-base "$WORK/root" --variant base \
  --producer granite-speech-4.1-onnx/embed_tokens-1 >"$WORK/bf16_check.txt" \
  || { cat "$WORK/bf16_check.txt"; fail "check_export on the bf16 preset"; }
[[ $(grep -c '  ok  ' "$WORK/bf16_check.txt") -eq 5 ]] || { cat "$WORK/bf16_check.txt"; fail "not five tiers ok"; }
"$E2O_BIN" verify "$EXP" --model-dir "$WORK/root/models/granite-speech-4.1-2b" >/dev/null || fail "verify bf16"
official_check --hidden 64 "$EXP" >/dev/null

# The option's values are checked.
rc=0
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$WORK/x" --output-dtype fp16 >/dev/null 2>"$WORK/bad.err" || rc=$?
[[ $rc -eq 2 && ! -e "$WORK/x" ]] && grep -q -- "--output-dtype" "$WORK/bad.err" \
  || { cat "$WORK/bad.err" >&2; fail "--output-dtype fp16 was not a usage error (exit $rc)"; }
echo "fp16_output: ok"
