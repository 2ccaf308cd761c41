#!/usr/bin/env bash
# Generic mode on the real checkpoints written by `transformers` (shared/fixtures/real):
# the table is auto-detected (four different naming schemes, one sharded), every tier is
# checked by the independent checker, report included.
source "$(dirname "$0")/lib/common.sh" "$@"
: "${E2O_SHARED:?E2O_SHARED must name the shared folder}"
FIXTURES="$E2O_SHARED/fixtures/real"

count=0
for model in ferrl-tiny_llama ferrl-tiny_qwen35 loractl-tiny-gpt2 loractl-tiny-qwen3vl; do
  src="$FIXTURES/$model"
  [[ -d "$src" ]] || { echo "missing fixture $src" >&2; exit 1; }
  out="$WORK/$model"
  echo "--- $model"
  "$E2O_BIN" export --model-dir "$src" --out-dir "$out"
  "$NODE" "$CHECK" --export-dir "$out" --model-dir "$src" --report "$out/embed_tokens_parity.json" --producer embed2onnx
  count=$((count + 1))
done
# The fixtures are read, never written.
if [[ -n "$(find "$FIXTURES" -newer "$WORK" -type f)" ]]; then
  echo "files under $FIXTURES changed during the run" >&2
  exit 1
fi
official_check "$WORK"
echo "real_fixtures: ok ($count checkpoints)"
