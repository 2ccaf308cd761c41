#!/usr/bin/env bash
# make demo: build a small Granite-shaped bf16 checkpoint with the project's generator,
# export every tier with the `base` preset layout, then load each file in ONNX Runtime.
# The table is what a real one looks like (normal values, std 0.02, as trained embedding
# tables have): the hand-picked edge rows that stress the quantisers stay in the tests,
# where a max error in the thousands is the point rather than a newcomer's first sight.
set -euo pipefail
BUILD=${1:-build}
ROOT="$BUILD/demo"
MODEL="$ROOT/models/granite-speech-4.1-2b"
V=100353   # Granite's vocabulary (id 100352 is <|audio|>)
D=256      # Granite's width is 2048; the demo keeps the files small
STAMP="$MODEL/.demo-realistic"  # a checkpoint from before the demo dropped its edge rows is remade

if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$STAMP" ]; then
  echo "== generating a Granite-shaped bf16 checkpoint: $V x $D (values of std 0.02, as a trained table)"
  rm -rf "$MODEL"
  "$BUILD/make_checkpoint" --out "$MODEL" --vocab "$V" --hidden "$D" --dtype bf16 --std 0.02 --seed 2026
  touch "$STAMP"
fi
echo
echo "== embed2onnx export --variant base --root $ROOT --dry-run   (what it would write; writes nothing)"
"$BUILD/embed2onnx" export --variant base --root "$ROOT" --dry-run
echo
echo "== embed2onnx export --variant base --root $ROOT"
"$BUILD/embed2onnx" export --variant base --root "$ROOT"
echo
echo "== files written"
ls -l "$ROOT/exports/granite-speech-4.1-2b"
echo
echo "== embed2onnx verify $ROOT/exports/granite-speech-4.1-2b   (the checkpoint and tensor come from the report)"
"$BUILD/embed2onnx" verify "$ROOT/exports/granite-speech-4.1-2b"
echo
echo "== ONNX Runtime $(node -p "require('./tests/ort/node_modules/onnxruntime-node/package.json').version") loads every tier and matches an independent reference bit for bit"
node tests/ort/check_export.mjs --export-dir "$ROOT/exports/granite-speech-4.1-2b" --model-dir "$MODEL" \
  --report "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json" --tiers-base "$ROOT" --variant base

# The check the original script ran on each file, onnx.checker.check_model, here with
# full_check and strict shape inference on every graph, splice graphs included (the pinned
# environment, tests/python/requirements.txt, which make demo installs).
source tests/e2e/lib/official_check.sh  # official_check, need_venv, VENV_PY
need_venv
echo
echo "== the official ONNX checker ($("$VENV_PY" -c 'import onnx; print("onnx", onnx.__version__)')) on every graph"
official_check --hidden "$D" "$ROOT/exports/granite-speech-4.1-2b"
