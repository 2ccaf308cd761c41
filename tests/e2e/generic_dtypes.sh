#!/usr/bin/env bash
# Generic mode (--model-dir/--out-dir) on non-bf16 sources: f16 in one file and f32 in two
# shards, both with edge rows (the f32 one holds values beyond fp16's range) and a table
# name no auto-detection knows, passed with --tensor. Report tier paths are plain file
# names (relative to the out dir).
source "$(dirname "$0")/lib/common.sh" "$@"

run_case() {  # label, tensor, make_checkpoint flags...
  local label=$1 tensor=$2
  shift 2
  local ckpt="$WORK/$label/ckpt" out="$WORK/$label/out"
  echo "--- $label"
  "$E2O_GEN" --out "$ckpt" --tensor "$tensor" --edge-rows "$@"
  "$E2O_BIN" export --model-dir "$ckpt" --out-dir "$out" --tensor "$tensor" --tiers fp32,fp16w,int8
  "$NODE" "$CHECK" --export-dir "$out" --model-dir "$ckpt" --tensor "$tensor" --report "$out/embed_tokens_parity.json" \
    --producer embed2onnx --random 512
  "$NODE" -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const want = { fp32: "embed_tokens.onnx", fp16w: "embed_tokens_fp16w.onnx", int8: "embed_tokens_int8.onnx" };
const bad = Object.entries(want).filter(([t, f]) => r.tiers[t] !== f);
if (bad.length) { console.error("tier paths not relative to the out dir:", JSON.stringify(r.tiers)); process.exit(1); }
' "$out/embed_tokens_parity.json"
}

run_case f16_single encoder.token_table.weight --dtype f16 --vocab 5003 --hidden 96 --seed 31 --std 0.5
run_case f32_sharded decoder.embedding.table.weight --dtype f32 --shards 2 --vocab 3001 --hidden 80 --seed 32 --std 1.0
official_check "$WORK"
echo "generic_dtypes: ok"
