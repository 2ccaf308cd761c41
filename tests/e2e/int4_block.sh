#!/usr/bin/env bash
# --int4-block (docs/int4.md): a block that is even and divides D exports an int4 tier the
# independent checker accepts (stored bytes, graph, ONNX Runtime bits, report stats); one
# that is odd or does not divide D is refused up front with one "embed2onnx: error:" line
# naming --int4-block, and nothing is written. A D = 1024 table checks the int4 sidecar
# against the fp16w one (<= 0.30 x at the default block 32).
source "$(dirname "$0")/lib/common.sh" "$@"
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 3000 --hidden 256 --edge-rows --seed 43 --tensor model.embed_tokens.weight

# 1. Accepted blocks on D = 256: 64 (asked of the checker too), and the extremes 4 and 256
# (the checker reads the block from the scale codes' shape).
accept() {  # block, extra checker flags...
  local block=$1
  shift
  local out="$WORK/block$block"
  "$E2O_BIN" export --model-dir "$CKPT" --out-dir "$out" --tiers int4 --int4-block "$block"
  local listing expected
  listing=$(cd "$out" && ls -A | sort | tr '\n' ' ')
  expected="embed_tokens_int4.onnx embed_tokens_int4.onnx_data embed_tokens_parity.json "
  if [[ "$listing" != "$expected" ]]; then
    echo "--tiers int4 --int4-block $block wrote [$listing], expected [$expected]" >&2
    exit 1
  fi
  "$NODE" "$CHECK" --export-dir "$out" --model-dir "$CKPT" --report "$out/embed_tokens_parity.json" \
    --producer embed2onnx --random 512 "$@" | tee "$WORK/block$block.check"
  grep -q "^int4  *ok .* block=$block\$" "$WORK/block$block.check" || { echo "checker did not confirm block $block" >&2; exit 1; }
}
accept 64 --tiers int4 --int4-block 64
accept 4
accept 256

# 2. Refused blocks: 48 does not divide 256, 3 is odd, 2 would store int4 at fp16w's size.
refuse() {  # block
  local block=$1 out="$WORK/refused$1"
  local rc=0
  "$E2O_BIN" export --model-dir "$CKPT" --out-dir "$out" --tiers int4 --int4-block "$block" \
    >"$WORK/refused$block.stdout" 2>"$WORK/refused$block.stderr" || rc=$?
  if [[ $rc -eq 0 ]]; then
    echo "--int4-block $block on D=256 exited 0" >&2
    exit 1
  fi
  local errors
  errors=$(grep -c '^embed2onnx: error: ' "$WORK/refused$block.stderr" || true)
  if [[ "$errors" != 1 ]] || ! grep '^embed2onnx: error: ' "$WORK/refused$block.stderr" | grep -q -- '--int4-block'; then
    echo "--int4-block $block: expected one 'embed2onnx: error:' line naming --int4-block; stderr was:" >&2
    cat "$WORK/refused$block.stderr" >&2
    exit 1
  fi
  if [[ -e "$out" && -n "$(find "$out" -mindepth 1 -print -quit)" ]]; then
    echo "--int4-block $block: the refused export wrote into $out:" >&2
    find "$out" >&2
    exit 1
  fi
  echo "block $block: refused with exit $rc: $(grep '^embed2onnx: error: ' "$WORK/refused$block.stderr")"
}
refuse 48
refuse 3
refuse 2

# 3. D = 1024, default block: the checker enforces int4 sidecar <= 0.30 x the fp16w sidecar.
BIG="$WORK/ckpt1024"
"$E2O_GEN" --out "$BIG" --vocab 1024 --hidden 1024 --seed 44 --std 0.02 --tensor model.embed_tokens.weight
OUT="$WORK/d1024"
"$E2O_BIN" export --model-dir "$BIG" --out-dir "$OUT" --tiers fp16w,int4
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$BIG" --report "$OUT/embed_tokens_parity.json" --producer embed2onnx \
  | tee "$WORK/d1024.check"
grep -q '^int4  *sidecar .*(limit 0.3)$' "$WORK/d1024.check" || { echo "the sidecar ratio was not enforced at D = 1024" >&2; exit 1; }
official_check "$WORK"
echo "int4_block: ok"
