#!/usr/bin/env bash
# fp16w stores values with |x| >= 65520 as +-inf (numpy's astype(float16)), and says so:
# export prints one note with the count and the largest |x| and records them in the report
# (`fp16w_overflow`); verify recomputes them, prints them and refuses a report whose count
# is wrong. A table fp16 holds gets no note and no key.
source "$(dirname "$0")/lib/common.sh" "$@"
PY=${PYTHON:-/usr/bin/python3}

# f32 edge row 9 repeats 10 values, 7 of them beyond fp16's range (largest |x| 3e38), so
# D = 80 gives 8 * 7 = 56 values that overflow.
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 200 --hidden 80 --dtype f32 --edge-rows --seed 5 >/dev/null
OUT="$WORK/out"
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$OUT" --tiers fp32,fp16w,int8 2>"$WORK/export.err" >/dev/null
notes=$(grep -c '^embed2onnx: fp16w: 56 values of tensor .* (largest |x| 3.00000001e+38) exceed' "$WORK/export.err" || true)
[[ $notes -eq 1 ]] || { echo "expected one fp16w overflow note:" >&2; cat "$WORK/export.err" >&2; exit 1; }
grep -q 'int8\|fp32' "$WORK/export.err" && { echo "a note for a tier without overflow:" >&2; cat "$WORK/export.err" >&2; exit 1; }
"$PY" - "$OUT/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r.get("fp16w_overflow")
assert o == {"count": 56, "max_abs_source": float.fromhex("0x1.c363ccp+127")}, o
assert "fp32_overflow" not in r and "int8_overflow" not in r, sorted(r)
PY
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$CKPT" --tiers fp32,fp16w,int8 --report "$OUT/embed_tokens_parity.json" \
  --producer embed2onnx

"$E2O_BIN" verify "$OUT" --model-dir "$CKPT" >"$WORK/verify.txt"
grep -q 'ok   fp16w .*56 values stored as +-inf (largest |x| 3.00000001e+38)' "$WORK/verify.txt" \
  || { echo "verify did not report the overflow:" >&2; cat "$WORK/verify.txt" >&2; exit 1; }
"$E2O_BIN" verify "$OUT" --model-dir "$CKPT" --json >"$WORK/verify.json"
"$PY" - "$WORK/verify.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], r
by_tier = {f["tier"]: f for f in r["files"]}
assert by_tier["fp16w"]["overflow"]["count"] == 56, by_tier["fp16w"]
assert by_tier["int8"]["overflow"]["count"] == 0, by_tier["int8"]
PY

# A report whose count is wrong is refused, naming the key.
"$PY" - "$OUT/embed_tokens_parity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["fp16w_overflow"]["count"] = 55
json.dump(r, open(sys.argv[1], "w"), indent=2)
PY
rc=0
"$E2O_BIN" verify "$OUT" --model-dir "$CKPT" >/dev/null 2>"$WORK/verify.err" || rc=$?
[[ $rc -ne 0 ]] && grep -q "embed_tokens_fp16w.onnx: the report's fp16w_overflow" "$WORK/verify.err" \
  || { echo "verify accepted a wrong overflow count (exit $rc):" >&2; cat "$WORK/verify.err" >&2; exit 1; }

# bf16 (fp16 holds every edge value of it): no note, no key.
"$E2O_GEN" --out "$WORK/bf16" --vocab 200 --hidden 80 --edge-rows --seed 5 >/dev/null
"$E2O_BIN" export --model-dir "$WORK/bf16" --out-dir "$WORK/bf16_out" --tiers fp16w 2>"$WORK/bf16.err" >/dev/null
[[ ! -s "$WORK/bf16.err" ]] || { echo "unexpected notes:" >&2; cat "$WORK/bf16.err" >&2; exit 1; }
"$PY" -c 'import json, sys; k = [k for k in json.load(open(sys.argv[1])) if k.endswith("_overflow")]; sys.exit(1 if k else 0)' \
  "$WORK/bf16_out/embed_tokens_parity.json" || { echo "an overflow key without overflow" >&2; exit 1; }
official_check "$WORK"
echo "fp16_overflow: ok"
