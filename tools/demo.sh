#!/usr/bin/env bash
# make demo: build a small Granite-shaped bf16 checkpoint with the project's generator,
# export every tier with the `base` preset layout, then load each file in ONNX Runtime.
set -euo pipefail
BUILD=${1:-build}
ROOT="$BUILD/demo"
MODEL="$ROOT/models/granite-speech-4.1-2b"
V=100353   # Granite's vocabulary (id 100352 is <|audio|>)
D=256      # Granite's width is 2048; the demo keeps the files small

if [ ! -f "$MODEL/model.safetensors" ]; then
  echo "== generating a Granite-shaped bf16 checkpoint: $V x $D (with hand-picked edge rows)"
  "$BUILD/make_checkpoint" --out "$MODEL" --vocab "$V" --hidden "$D" --dtype bf16 --edge-rows --seed 2026
fi
echo
echo "== embed2onnx export --variant base --root $ROOT"
"$BUILD/embed2onnx" export --variant base --root "$ROOT"
echo
echo "== files written"
ls -l "$ROOT/exports/granite-speech-4.1-2b"
echo
echo "== ONNX Runtime $(node -p "require('./tests/ort/node_modules/onnxruntime-node/package.json').version") loads every tier and matches an independent reference bit for bit"
node tests/ort/check_export.mjs --export-dir "$ROOT/exports/granite-speech-4.1-2b" --model-dir "$MODEL" \
  --report "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json" --tiers-base "$ROOT" --variant base
