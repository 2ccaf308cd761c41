#!/usr/bin/env bash
# Splice graphs (SPEC §8) end to end: the presets write one per tier by default (base and
# plus with <|audio|> = 100352 a real row, nar with 100352 one past its table; layouts as
# published and as transformers 5 writes them), generic mode only with --audio-token-id
# or a Granite Speech config.json naming the token. Every splice graph goes through
# check_splice.mjs (ONNX Runtime, both optimisation levels: masked_scatter bit for bit
# with -0.0/subnormal/inf/NaN rows and audio at the first and last positions, both count
# mismatches fail, no audio = the plain graph) and the official checker; verify and
# inspect know them; --no-splice and a later export without them leave none behind; a
# config.json that disagrees with the table is refused naming both values; the splice
# graphs add no table bytes. With --image-token-id they take image_features too (or alone),
# checked the same way for each modality.
source "$(dirname "$0")/lib/common.sh" "$@"
SPLICE="$ORT_DIR/check_splice.mjs"
ROOT="$WORK/root"
D=64
die() { echo "splice: $*" >&2; exit 1; }
# Bytes of the graphs and sidecars (the report's size follows its keys).
total() { find "$1" -maxdepth 1 -type f -name 'embed_tokens*.onnx*' -printf '%s\n' | awk '{s += $1} END {print s}'; }
n_splice() { find "$1" -maxdepth 1 -name '*_audio.onnx' | wc -l; }

"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden $D --edge-rows --seed 21
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b-plus" --vocab 100353 --hidden $D --shards 2 --seed 22 \
  --tensor model.language_model.embed_tokens.weight
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b-nar" --vocab 100352 --hidden $D --seed 23 \
  --tensor model.language_model.embed_tokens.weight
# base has the tokenizer files of the real checkpoint (the token's text) and its config.
cat >"$ROOT/models/granite-speech-4.1-2b/tokenizer_config.json" <<'EOF'
{"added_tokens_decoder": {"100352": {"content": "<|audio|>", "special": true}}}
EOF
cat >"$ROOT/models/granite-speech-4.1-2b/config.json" <<EOF
{"model_type": "granite_speech", "architectures": ["GraniteSpeechForConditionalGeneration"],
 "audio_token_index": 100352, "text_config": {"vocab_size": 100353, "hidden_size": $D,
 "tie_word_embeddings": true, "embedding_multiplier": 12.0}}
EOF

"$E2O_BIN" export --variant all --root "$ROOT" 2>"$WORK/all.err" | tee "$WORK/all.out"
grep -q "splice graphs for audio token 100352" "$WORK/all.out" || die "the summary lists no splice graphs"
for pair in granite-speech-4.1-2b:100353 granite-speech-4.1-2b-plus:100353 granite-speech-4.1-2b-nar:100352; do
  name=${pair%%:*} v=${pair##*:}
  out="$ROOT/exports/$name"
  [[ $(n_splice "$out") -eq 5 ]] || die "$name: $(n_splice "$out") splice graphs, expected one per tier (5)"
  "$NODE" "$SPLICE" --export-dir "$out" --audio-token-id 100352 --vocab "$v" --batches 4
  official_check --hidden $D "$out"
  # The report lists them (SPEC §8), with where the id came from.
  "$NODE" - "$out/embed_tokens_parity.json" "$name" <<'JS'
const fs = require('fs');
const [file, name] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const s = r.splice;
const problems = [];
if (!s || s.audio_token_id !== 100352) problems.push(`splice.audio_token_id ${JSON.stringify(s && s.audio_token_id)}`);
const want_source = name === 'granite-speech-4.1-2b' ? 'config' : 'preset';
if (s && s.source !== want_source) problems.push(`splice.source ${s.source}, expected ${want_source}`);
for (const [tier, p] of Object.entries(r.tiers)) {
  const want = p.replace(/\.onnx$/, '_audio.onnx');
  if (!s || s.graphs[tier] !== want) problems.push(`splice.graphs.${tier} = ${JSON.stringify(s && s.graphs[tier])}, expected ${want}`);
  if (!s || !(s.bytes[tier] > 0 && s.bytes[tier] < 64 * 1024)) problems.push(`splice.bytes.${tier} = ${s && s.bytes[tier]}`);
}
if (name === 'granite-speech-4.1-2b') {
  if (s.token_text !== '<|audio|>') problems.push(`splice.token_text ${JSON.stringify(s.token_text)}`);
  const i = r.info;
  if (i.tie_word_embeddings !== true || i.audio_token_id !== 100352 || i.embedding_multiplier !== 12)
    problems.push(`info config keys ${JSON.stringify([i.tie_word_embeddings, i.audio_token_id, i.embedding_multiplier])}`);
}
if (problems.length) { console.error(`${file}:\n  ${problems.join('\n  ')}`); process.exit(1); }
console.log(`report splice ok (${name})`);
JS
done
! grep -q "audio token id" "$WORK/all.err" || die "a note about the audio token where the tokenizer agrees: $(cat "$WORK/all.err")"

# --variant all checks every config.json before the first export: base stays as it was.
cp "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json" "$WORK/base_report.json"
echo '{"vocab_size": 100353, "hidden_size": 2048}' >"$ROOT/models/granite-speech-4.1-2b-nar/config.json"
if "$E2O_BIN" export --quiet --variant all --root "$ROOT" 2>"$WORK/all_bad.err"; then die "a bad nar config.json passed"; fi
grep -q "granite-speech-4.1-2b-nar/config.json: vocab_size 100353 does not match the table's 100352 rows" \
  "$WORK/all_bad.err" || die "--variant all: $(cat "$WORK/all_bad.err")"
cmp -s "$WORK/base_report.json" "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_parity.json" ||
  die "base was exported again before nar's config.json was refused"
rm "$ROOT/models/granite-speech-4.1-2b-nar/config.json"

# verify checks the splice graphs as their own entries; inspect shows the second input.
"$E2O_BIN" verify "$ROOT/exports/granite-speech-4.1-2b" --model-dir "$ROOT/models/granite-speech-4.1-2b" \
  >"$WORK/verify.out"
[[ $(grep -c 'splice graph, ' "$WORK/verify.out") -eq 5 ]] || die "verify: $(cat "$WORK/verify.out")"
"$E2O_BIN" inspect "$ROOT/exports/granite-speech-4.1-2b/embed_tokens_int8_audio.onnx" >"$WORK/inspect.out"
grep -q 'input   audio_features FLOAT \["num_audio_tokens",64\]' "$WORK/inspect.out" || die "inspect: $(cat "$WORK/inspect.out")"
grep -q 'audio_token_id=100352' "$WORK/inspect.out" || die "inspect shows no audio token id"
# A splice graph the report lists but the folder lacks fails verify.
cp -a "$ROOT/exports/granite-speech-4.1-2b" "$WORK/lacking"
rm "$WORK/lacking/embed_tokens_fp16w_audio.onnx"
if "$E2O_BIN" verify "$WORK/lacking" --model-dir "$ROOT/models/granite-speech-4.1-2b" >"$WORK/lacking.out" 2>&1; then
  die "verify passed without a listed splice graph"
fi
grep -q 'embed_tokens_fp16w_audio.onnx: the report lists this splice graph but it is missing' "$WORK/lacking.out" ||
  die "verify: $(cat "$WORK/lacking.out")"

# The splice graphs add no table bytes: the same export without them differs by exactly
# their sizes, and a later export that does not write them removes them.
out="$ROOT/exports/granite-speech-4.1-2b-nar"
with=$(total "$out")
graphs=$(find "$out" -maxdepth 1 -name '*_audio.onnx' -printf '%s\n' | awk '{s += $1} END {print s}')
"$E2O_BIN" export --quiet --variant nar --root "$ROOT" --no-splice
[[ $(n_splice "$out") -eq 0 ]] || die "--no-splice left splice graphs"
without=$(total "$out")
[[ $((with - without)) -eq $graphs ]] || die "size with $with, without $without, splice graphs $graphs"
grep -q '"splice"' "$out/embed_tokens_parity.json" && die "--no-splice report has a splice key"
echo "sizes: with $with, without $without, splice graphs $graphs bytes (5 graphs)"

# Generic mode: none without a reason, with the flag, with a Granite Speech config.json.
G="$WORK/generic"
V=3000
"$E2O_GEN" --out "$G/ckpt" --vocab $V --hidden 32 --seed 5 --tensor model.embed_tokens.weight
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/none" --tiers fp32,int8
[[ $(n_splice "$G/none") -eq 0 ]] || die "generic mode wrote splice graphs unasked"
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/flag" --audio-token-id 17
[[ $(n_splice "$G/flag") -eq 5 ]] || die "--audio-token-id: $(n_splice "$G/flag") splice graphs"
"$NODE" "$SPLICE" --export-dir "$G/flag" --audio-token-id 17 --vocab $V --batches 3
official_check --hidden 32 "$G/flag"
# Image features alone (docs/splice.md): <stem>_image.onnx, no audio graph.
"$E2O_BIN" export --model-dir "$G/ckpt" --out-dir "$G/image" --tiers fp32,int4 --image-token-id 9 >"$G/image.out"
[[ $(find "$G/image" -name '*_image.onnx' | wc -l) -eq 2 && $(n_splice "$G/image") -eq 0 ]] ||
  die "--image-token-id alone: $(ls "$G/image")"
grep -q "splice graphs for image token 9 (flag), inputs input_ids and image_features:" "$G/image.out" ||
  die "the summary does not name the image token: $(cat "$G/image.out")"
"$NODE" "$SPLICE" --export-dir "$G/image" --image-token-id 9 --vocab $V --batches 3
official_check --hidden 32 "$G/image"
"$E2O_BIN" verify "$G/image" >"$G/image.verify"
[[ $(grep -c 'splice graph, ' "$G/image.verify") -eq 2 ]] || die "verify: $(cat "$G/image.verify")"
"$E2O_BIN" inspect "$G/image/embed_tokens_int4_image.onnx" >"$G/image.inspect"
grep -q 'splice graph: input_ids + image_features -> inputs_embeds' "$G/image.inspect" &&
  grep -q 'image_token_id=9' "$G/image.inspect" || die "inspect: $(cat "$G/image.inspect")"
# A config.json of another model with an audio token: still no splice graphs.
echo '{"model_type": "qwen2_audio", "audio_token_index": 12, "vocab_size": 3000, "hidden_size": 32}' >"$G/ckpt/config.json"
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/qwen" --tiers fp32
[[ $(n_splice "$G/qwen") -eq 0 ]] || die "a non-Granite config.json gave splice graphs"
# A Granite Speech config.json naming the token; the tokenizer calls it something else.
cat >"$G/ckpt/config.json" <<'EOF'
{"model_type": "granite_speech", "audio_token_index": 2999, "text_config": {"vocab_size": 3000, "hidden_size": 32}}
EOF
echo '{"added_tokens": [{"id": 2999, "content": "<|endoftext|>"}]}' >"$G/ckpt/tokenizer.json"
"$E2O_BIN" export --model-dir "$G/ckpt" --out-dir "$G/config" --tiers fp16w,int4 >/dev/null 2>"$G/config.err"
[[ $(n_splice "$G/config") -eq 2 ]] || die "config.json's audio token: $(n_splice "$G/config") splice graphs"
grep -q "audio token id 2999 (config) is '<|endoftext|>' in the tokenizer, not '<|audio|>'" "$G/config.err" ||
  die "no note on the tokenizer's text: $(cat "$G/config.err")"
[[ $(wc -l <"$G/config.err") -eq 1 ]] || die "more than one line of notes: $(cat "$G/config.err")"
"$NODE" "$SPLICE" --export-dir "$G/config" --audio-token-id 2999 --vocab $V --batches 3
official_check --hidden 32 "$G/config"
# The flag wins over config.json.
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/both" --tiers bf16w --audio-token-id 4
"$NODE" "$SPLICE" --export-dir "$G/both" --audio-token-id 4 --vocab $V --batches 2
grep -q '"source": "flag"' "$G/both/embed_tokens_parity.json" || die "the flag did not win over config.json"
# Image and audio (config.json's 2999) in one graph per tier: <stem>_image_audio.onnx.
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/image_audio" --tiers fp32,fp16w,int8 \
  --image-token-id 5
[[ $(find "$G/image_audio" -name '*_image_audio.onnx' | wc -l) -eq 3 && $(n_splice "$G/image_audio") -eq 3 ]] ||
  die "image and audio: $(ls "$G/image_audio")"
"$NODE" "$SPLICE" --export-dir "$G/image_audio" --image-token-id 5 --audio-token-id 2999 --vocab $V --batches 4
official_check --hidden 32 "$G/image_audio"
"$NODE" - "$G/image_audio/embed_tokens_parity.json" <<'JS'
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const s = r.splice;
const bad = [];
if (s.image_token_id !== 5 || s.audio_token_id !== 2999 || s.source !== 'config') bad.push(JSON.stringify(s));
for (const [tier, p] of Object.entries(r.tiers))
  if (s.graphs[tier] !== p.replace(/\.onnx$/, '_image_audio.onnx')) bad.push(`graphs.${tier} ${s.graphs[tier]}`);
if (bad.length) { console.error(`report splice: ${bad.join('; ')}`); process.exit(1); }
JS
# check_splice.mjs itself fails graphs that are wrong in ways the right one is not: one
# that checks only the total count of rows, and one that drops a spare audio row.
for kind in total_only first_rows; do
  mkdir -p "$G/broken_$kind"
  cp "$G/image_audio/embed_tokens.onnx" "$G/image_audio/embed_tokens.onnx_data" "$G/broken_$kind/"
  need_venv
  "$VENV_PY" "$(dirname "$0")/make_broken_splice.py" $kind "$G/image_audio/embed_tokens_image_audio.onnx" \
    "$G/broken_$kind/embed_tokens_image_audio.onnx"
  set +e
  "$NODE" "$SPLICE" --export-dir "$G/broken_$kind" --image-token-id 5 --audio-token-id 2999 --vocab $V --batches 2 \
    >"$WORK/broken_$kind.out" 2>"$WORK/broken_$kind.err"
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || die "check_splice passed a $kind graph (exit $rc): $(cat "$WORK/broken_$kind.out")"
  want='audio_features rows ran without an error'
  [[ $kind == total_only ]] && want='image_features rows and .* audio_features rows ran without an error'
  grep -q -- "$want" "$WORK/broken_$kind.err" || die "check_splice on a $kind graph: $(head -3 "$WORK/broken_$kind.err")"
  echo "check_splice fails a $kind graph: $(head -1 "$WORK/broken_$kind.err")"
done
"$E2O_BIN" verify "$G/image_audio" >"$G/image_audio.verify"
[[ $(grep -c 'splice graph, ' "$G/image_audio.verify") -eq 3 ]] || die "verify: $(cat "$G/image_audio.verify")"
# Exported again with audio only, the image graphs go (the new report does not list them).
"$E2O_BIN" export --quiet --model-dir "$G/ckpt" --out-dir "$G/image_audio" --tiers fp32,fp16w,int8
[[ $(find "$G/image_audio" -name '*_image*' | wc -l) -eq 0 && $(n_splice "$G/image_audio") -eq 3 ]] ||
  die "a later export without image left: $(ls "$G/image_audio")"

# Refusals: one line naming the flag or both values; nothing written.
refuse() {  # name, exit status, phrase, args...
  local name=$1 want=$2 phrase=$3
  shift 3
  set +e
  "$E2O_BIN" export "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  set -e
  [[ $rc -eq $want ]] || die "$name: exit $rc, expected $want: $(cat "$WORK/$name.err")"
  [[ $(wc -l <"$WORK/$name.err") -eq 1 ]] || die "$name: not one line: $(cat "$WORK/$name.err")"
  grep -qF -- "$phrase" "$WORK/$name.err" || die "$name: '$phrase' not in: $(cat "$WORK/$name.err")"
  echo "refused $name: $(cat "$WORK/$name.err")"
}
refuse negative_id 2 "--audio-token-id: '-1' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" --audio-token-id=-1
refuse word_id 2 "--audio-token-id: 'abc' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" --audio-token-id abc
refuse huge_id 2 "--audio-token-id: '9223372036854775808' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" \
  --audio-token-id 9223372036854775808
refuse both_flags 2 "--no-splice" --model-dir "$G/ckpt" --out-dir "$G/bad" --audio-token-id 3 --no-splice
refuse image_no_splice 2 "--no-splice" --model-dir "$G/ckpt" --out-dir "$G/bad" --image-token-id 3 --no-splice
refuse empty_id 2 "--audio-token-id: '' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" --audio-token-id ''
refuse empty_image_id 2 "--image-token-id: '' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" --image-token-id ''
refuse word_image_id 2 "--image-token-id: 'x' is not a token id" --model-dir "$G/ckpt" --out-dir "$G/bad" --image-token-id x
refuse same_ids 2 "--image-token-id: 3 is also --audio-token-id" --model-dir "$G/ckpt" --out-dir "$G/bad" \
  --audio-token-id 3 --image-token-id 3
cat >"$G/ckpt/config.json" <<'EOF'
{"model_type": "granite_speech", "audio_token_index": 2999, "text_config": {"vocab_size": 3001, "hidden_size": 32}}
EOF
refuse config_vocab 1 "vocab_size 3001 does not match the table's 3000 rows" --model-dir "$G/ckpt" --out-dir "$G/bad"
echo '{"model_type": "granite_speech", "audio_token_id": -1}' >"$G/ckpt/config.json"
refuse config_negative_id 1 "$G/ckpt/config.json: audio_token_id -1 is negative, not a token id" --model-dir "$G/ckpt" \
  --out-dir "$G/bad"
echo '{"model_type": "granite_speech", "audio_token_index": 2999}' >"$G/ckpt/config.json"
refuse image_is_config_audio 1 "--image-token-id: 2999 is also the audio token id (audio_token_index in $G/ckpt/config.json)" --model-dir "$G/ckpt" \
  --out-dir "$G/bad" --image-token-id 2999
echo '{"vocab_size": 3000, "hidden_size": 48}' >"$G/ckpt/config.json"
refuse config_hidden 1 "hidden_size 48 does not match the table's width 32" --model-dir "$G/ckpt" --out-dir "$G/bad"
[[ ! -e "$G/bad" ]] || die "a refused export created its folder"
echo "splice: ok"
