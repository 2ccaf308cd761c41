#!/usr/bin/env bash
# The nar preset with the newer revision's tensor name
# (`language_model.model.embed_tokens.weight`), sharded, exported alone with --variant nar.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
NODE=${NODE:-node}
ORT_DIR="$(cd "$(dirname "$0")/../ort" && pwd)"
CHECK="$ORT_DIR/check_export.mjs"
[[ -d "$ORT_DIR/node_modules/onnxruntime-node" ]] || { echo "onnxruntime-node is not installed: run 'make npm-deps'" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"
ROOT="$WORK/root"
NAME=granite-speech-4.1-2b-nar

"$E2O_GEN" --out "$ROOT/models/$NAME" --vocab 100352 --hidden 128 --shards 2 --edge-rows --seed 21 \
  --tensor language_model.model.embed_tokens.weight
"$E2O_BIN" export --variant nar --root "$ROOT"

# Only the nar export exists.
[[ ! -e "$ROOT/exports/granite-speech-4.1-2b" && ! -e "$ROOT/exports/granite-speech-4.1-2b-plus" ]] ||
  { echo "--variant nar wrote other variants' exports" >&2; exit 1; }

OUT="$ROOT/exports/$NAME"
"$NODE" "$CHECK" --export-dir "$OUT" --model-dir "$ROOT/models/$NAME" --report "$OUT/embed_tokens_parity.json" \
  --tiers-base "$ROOT" --variant nar --producer granite-speech-4.1-onnx/embed_tokens-1
"$NODE" -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const ok = r.info.embed_attr === "language_model.model.embed_tokens" && r.info.vocab_size === 100352 &&
  r.tiers.int8 === "exports/granite-speech-4.1-2b-nar/embed_tokens_int8.onnx";
if (!ok) { console.error("unexpected report:", JSON.stringify({ info: r.info, tiers: r.tiers })); process.exit(1); }
' "$OUT/embed_tokens_parity.json"
echo "nar_new_name: ok"
