#!/usr/bin/env bash
# --tiers: a subset writes only its own files (plus the report), for the original tiers
# and the newer bf16w / int4; an unknown tier name is refused up front with one
# "embed2onnx: error:" line naming it, and nothing is written.
source "$(dirname "$0")/lib/common.sh" "$@"
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 2048 --hidden 64 --edge-rows --seed 41 --tensor model.embed_tokens.weight

# 1. int8 only.
OUT="$WORK/int8"
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$OUT" --tiers int8
listing=$(cd "$OUT" && ls -A | sort | tr '\n' ' ')
expected="embed_tokens_int8.onnx embed_tokens_int8.onnx_data embed_tokens_parity.json "
if [[ "$listing" != "$expected" ]]; then
  echo "--tiers int8 wrote [$listing], expected [$expected]" >&2
  exit 1
fi
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$CKPT" --tiers int8 --report "$OUT/embed_tokens_parity.json" \
  --producer embed2onnx

# 1b. The two newer tiers together: only their files; the checker, given no --tiers, checks
# exactly the tiers the report lists and whose files are present.
OUT="$WORK/bf16w_int4"
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$OUT" --tiers bf16w,int4
listing=$(cd "$OUT" && ls -A | sort | tr '\n' ' ')
expected="embed_tokens_bf16w.onnx embed_tokens_bf16w.onnx_data embed_tokens_int4.onnx embed_tokens_int4.onnx_data embed_tokens_parity.json "
if [[ "$listing" != "$expected" ]]; then
  echo "--tiers bf16w,int4 wrote [$listing], expected [$expected]" >&2
  exit 1
fi
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$CKPT" --report "$OUT/embed_tokens_parity.json" --producer embed2onnx \
  | tee "$WORK/bf16w_int4.check"
grep -qx 'tiers (from the report and the files present): bf16w, int4' "$WORK/bf16w_int4.check" || {
  echo "the checker did not pick exactly bf16w, int4 from the export" >&2
  exit 1
}

# 2. An unknown tier: refused, one error line naming it, nothing written.
refuse() {  # out dir, label
  local out=$1 label=$2
  local rc=0
  "$E2O_BIN" export --model-dir "$CKPT" --out-dir "$out" --tiers fp32,bogus >"$WORK/$label.stdout" 2>"$WORK/$label.stderr" || rc=$?
  if [[ $rc -ne 2 ]]; then
    echo "$label: --tiers fp32,bogus exited $rc, expected 2 (usage error)" >&2
    exit 1
  fi
  local errors
  errors=$(grep -c '^embed2onnx: error: ' "$WORK/$label.stderr" || true)
  if [[ "$errors" != 1 ]] || ! grep '^embed2onnx: error: ' "$WORK/$label.stderr" | grep -q bogus; then
    echo "$label: expected one 'embed2onnx: error:' line mentioning bogus; stderr was:" >&2
    cat "$WORK/$label.stderr" >&2
    exit 1
  fi
  if [[ -e "$out" && -n "$(find "$out" -mindepth 1 -print -quit)" ]]; then
    echo "$label: the refused export wrote into $out:" >&2
    find "$out" >&2
    exit 1
  fi
  echo "$label: refused with exit $rc: $(grep '^embed2onnx: error: ' "$WORK/$label.stderr")"
}
mkdir -p "$WORK/bogus_empty"
refuse "$WORK/bogus_empty" bogus_empty
refuse "$WORK/bogus_missing" bogus_missing
official_check --hidden 64 "$WORK"
echo "tiers_subset: ok"
