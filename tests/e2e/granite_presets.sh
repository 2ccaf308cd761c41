#!/usr/bin/env bash
# The three Granite Speech presets end to end: synthetic checkpoints laid out like the real
# ones (base: one bf16 file with edge rows; plus: 3 shards + index; nar: the older
# `llm.` tensor name, V = 100352), `export --variant all --root`, then the independent
# checker on every export, the report included (tier paths relative to the root).
source "$(dirname "$0")/lib/common.sh" "$@"
ROOT="$WORK/root"
D=64

"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden $D --edge-rows --seed 11
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b-plus" --vocab 100353 --hidden $D --shards 3 --seed 12
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b-nar" --vocab 100352 --hidden $D --seed 13 \
  --tensor llm.model.embed_tokens.weight

"$E2O_BIN" export --variant all --root "$ROOT"

check_variant() {  # variant, folder name, embed_attr
  local variant=$1 name=$2 attr=$3
  local out="$ROOT/exports/$name"
  echo "--- $variant: $out"
  "$NODE" "$CHECK" --export-dir "$out" --model-dir "$ROOT/models/$name" --report "$out/embed_tokens_parity.json" \
    --tiers-base "$ROOT" --variant "$variant" --producer granite-speech-4.1-onnx/embed_tokens-1
  # The exact strings a consumer of the bundle reads.
  "$NODE" - "$out/embed_tokens_parity.json" "$variant" "$name" "$attr" <<'JS'
const fs = require('fs');
const [file, variant, name, attr] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const want = {
  fp32: `exports/${name}/embed_tokens.onnx`,
  fp16w: `exports/${name}/embed_tokens_fp16w.onnx`,
  int8: `exports/${name}/embed_tokens_int8.onnx`,
};
const problems = [];
for (const [tier, p] of Object.entries(want)) if (r.tiers[tier] !== p) problems.push(`tiers.${tier} = ${JSON.stringify(r.tiers[tier])}, expected ${JSON.stringify(p)}`);
if (r.variant !== variant) problems.push(`variant = ${JSON.stringify(r.variant)}, expected ${variant}`);
if (r.info.variant !== variant) problems.push(`info.variant = ${JSON.stringify(r.info.variant)}, expected ${variant}`);
if (r.info.embed_attr !== attr) problems.push(`info.embed_attr = ${JSON.stringify(r.info.embed_attr)}, expected ${attr}`);
if (problems.length) { console.error(`${file}:\n  ${problems.join('\n  ')}`); process.exit(1); }
console.log(`report strings ok (${variant})`);
JS
}

check_variant base granite-speech-4.1-2b language_model.model.embed_tokens
check_variant plus granite-speech-4.1-2b-plus language_model.model.embed_tokens
check_variant nar granite-speech-4.1-2b-nar llm.model.embed_tokens
official_check --hidden $D "$WORK"
echo "granite_presets: ok"
