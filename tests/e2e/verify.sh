#!/usr/bin/env bash
# `embed2onnx verify` accepts our exports (all five tiers) and one made by a faithful
# re-run of the original Python script, and refuses a changed sidecar byte, a truncated
# sidecar, a missing file and a graph that does not match; `inspect` describes a file.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib/official_check.sh"
CKPT="$WORK/ckpt"
"$E2O_GEN" --out "$CKPT" --vocab 5000 --hidden 128 --edge-rows --seed 7 >/dev/null

OURS="$WORK/ours"
"$E2O_BIN" export --model-dir "$CKPT" --out-dir "$OURS" -q
"$E2O_BIN" verify "$OURS" --model-dir "$CKPT" --random 64
"$E2O_BIN" verify "$OURS" --model-dir "$CKPT" --json > "$WORK/verify.json"
grep -q '"ok": true' "$WORK/verify.json"
[[ $(grep -c '"tier": ' "$WORK/verify.json") -eq 5 ]] || { echo "verify --json did not list five tiers" >&2; exit 1; }

# The report's int8 and int4 figures are recomputed and must match.
[[ $(grep -c '"report_stats_matched": true' "$WORK/verify.json") -eq 2 ]] \
  || { echo "verify did not match the report's int8 and int4 figures" >&2; cat "$WORK/verify.json" >&2; exit 1; }

ORIG="$WORK/original"
/usr/bin/python3 "$ROOT/bench/original_export.py" --model-dir "$CKPT" --out-dir "$ORIG" --parity numpy >/dev/null
"$E2O_BIN" verify "$ORIG" --model-dir "$CKPT" --json > "$WORK/verify_orig.json"
grep -q '"ok": true' "$WORK/verify_orig.json"
grep -q '"report_stats_matched": true' "$WORK/verify_orig.json" \
  || { echo "verify did not match the original script's int8 figures (numpy's)" >&2; cat "$WORK/verify_orig.json" >&2; exit 1; }

# Each broken copy must be refused: exit 1 (the export is wrong), an error line naming
# the file.
expect_refused() {  # label, folder, file the message must name
  local label=$1 dir=$2 name=$3 rc=0
  "$E2O_BIN" verify "$dir" --model-dir "$CKPT" >"$WORK/$label.out" 2>"$WORK/$label.err" || rc=$?
  if [[ $rc -eq 0 ]]; then echo "$label: verify accepted a broken export" >&2; exit 1; fi
  if [[ $rc -ne 1 ]]; then echo "$label: verify exited $rc, expected 1 (export wrong)" >&2; exit 1; fi
  if ! grep -q "^embed2onnx: error: .*$name" "$WORK/$label.err"; then
    echo "$label: no error line naming $name:" >&2; cat "$WORK/$label.err" >&2; exit 1
  fi
  echo "$label: refused (exit $rc): $(head -c 200 "$WORK/$label.err")"
}
fresh() { rm -rf "$WORK/broken" && cp -r "$1" "$WORK/broken"; }

for tier_file in embed_tokens.onnx embed_tokens_fp16w.onnx embed_tokens_bf16w.onnx embed_tokens_int8.onnx embed_tokens_int4.onnx; do
  fresh "$OURS"
  size=$(stat -c %s "$WORK/broken/${tier_file}_data")
  # Flip every bit of one byte in the middle of the sidecar.
  off=$((size / 2))
  byte=$(od -An -tu1 -j "$off" -N1 "$WORK/broken/${tier_file}_data" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - byte)))" | dd of="$WORK/broken/${tier_file}_data" bs=1 seek="$off" conv=notrunc 2>/dev/null
  expect_refused "flip-$tier_file" "$WORK/broken" "$tier_file"
done

fresh "$ORIG"
truncate -s -1 "$WORK/broken/embed_tokens_int8.onnx_data"
expect_refused truncated-original "$WORK/broken" embed_tokens_int8.onnx_data

fresh "$OURS"
rm "$WORK/broken/embed_tokens_fp16w.onnx_data"
expect_refused missing-sidecar "$WORK/broken" embed_tokens_fp16w.onnx_data

# A graph that does not match its tier: the bf16w graph under the fp16w name.
fresh "$OURS"
cp "$OURS/embed_tokens_bf16w.onnx" "$WORK/broken/embed_tokens_fp16w.onnx"
cp "$OURS/embed_tokens_bf16w.onnx_data" "$WORK/broken/embed_tokens_bf16w.onnx_data"
sed -i 's/embed_tokens_bf16w.onnx_data/embed_tokens_fp16w.onnx_data/' "$WORK/broken/embed_tokens_fp16w.onnx" 2>/dev/null || true
expect_refused mismatched-graph "$WORK/broken" embed_tokens_fp16w.onnx

# A report figure off by a relative `factor`: ours must match to the last bit (1e-5 is
# refused); a report of other software (the original script, maybe another numpy) is
# held to 1e-4 (1e-5 passes, 1e-3 is refused).
tamper() {  # folder section key factor
  /usr/bin/python3 - "$1/embed_tokens_parity.json" "$2" "$3" "$4" <<'PY'
import json, sys
path, section, key, factor = sys.argv[1:]
r = json.load(open(path))
r[section][key] *= 1 + float(factor)
json.dump(r, open(path, "w"), indent=2)
PY
}
for case in "$OURS int8_table_quant_stats mean_abs_err embed_tokens_int8.onnx 1e-5" \
            "$OURS int4_table_quant_stats p99_abs_err embed_tokens_int4.onnx 1e-5" \
            "$ORIG int8_table_quant_stats p99_abs_err embed_tokens_int8.onnx 1e-3" \
            "$ORIG int8_table_quant_stats mean_abs_err embed_tokens_int8.onnx 1e-3"; do
  read -r dir section key file factor <<<"$case"
  fresh "$dir"
  tamper "$WORK/broken" "$section" "$key" "$factor"
  expect_refused "report-$section-$key-$factor" "$WORK/broken" "$file: the report's $section"
done
fresh "$ORIG"
tamper "$WORK/broken" int8_table_quant_stats mean_abs_err 1e-5
"$E2O_BIN" verify "$WORK/broken" --model-dir "$CKPT" >/dev/null \
  || { echo "verify refused the original's report with its mean 1e-5 off (within another numpy's rounding)" >&2; exit 1; }

# A check that cannot run is not a verdict on the export: exit 2.
cannot_run() {  # label, what the message must name, verify args...
  local label=$1 name=$2 rc=0
  shift 2
  "$E2O_BIN" verify "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || rc=$?
  if [[ $rc -ne 2 ]] || ! grep -q "^embed2onnx: error: .*$name" "$WORK/$label.err"; then
    echo "$label: expected exit 2 and an error naming $name, got $rc:" >&2; cat "$WORK/$label.err" >&2; exit 1
  fi
  echo "$label: could not run (exit $rc): $(head -c 200 "$WORK/$label.err")"
}
cannot_run no-export-folder no_such_export "$WORK/no_such_export" --model-dir "$CKPT"
cannot_run moved-checkpoint moved_ckpt "$OURS" --model-dir "$WORK/moved_ckpt"
rc=0
"$E2O_BIN" inspect "$WORK/no_such.onnx" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { echo "inspect of a missing file exited $rc, expected 2" >&2; exit 1; }
printf 'not a model' >"$WORK/garbage.onnx"
rc=0
"$E2O_BIN" inspect "$WORK/garbage.onnx" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { echo "inspect of a damaged file exited $rc, expected 1" >&2; exit 1; }

"$E2O_BIN" inspect "$OURS/embed_tokens_int4.onnx" | grep -q "every external range fits"
"$E2O_BIN" inspect "$OURS/embed_tokens_int8.onnx" --json | grep -q '"ranges_fit": true'
# broken/ (the last broken copy) and garbage.onnx are broken on purpose.
official_check --exclude "broken/*" --exclude garbage.onnx "$WORK"
echo "verify: all cases behaved"
