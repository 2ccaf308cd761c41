#!/usr/bin/env bash
# The nar preset with the newer revision's tensor name
# (`language_model.model.embed_tokens.weight`), sharded, exported alone with --variant nar.
source "$(dirname "$0")/lib/common.sh" "$@"
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
official_check --hidden 128 "$WORK"
echo "nar_new_name: ok"
