#!/usr/bin/env bash
# Bad input is refused without touching a previous good export: a NaN in row 7, and a
# model dir that does not exist, both failures on the input (exit 1), and a bad flag (a
# usage error, exit 2). Each refusal has one "embed2onnx: error:"
# line, and the out dir stays byte-identical (listing with sizes and mtimes, sha256 of
# every file) with no new files left behind.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib/official_check.sh"
GOOD="$WORK/good_ckpt"
BAD="$WORK/nan_ckpt"
OUT="$WORK/out"
"$E2O_GEN" --out "$GOOD" --vocab 1000 --hidden 64 --seed 61
"$E2O_GEN" --out "$BAD" --vocab 1000 --hidden 64 --seed 62 --nonfinite 7
"$E2O_BIN" export --model-dir "$GOOD" --out-dir "$OUT"

snapshot() {
  (cd "$OUT" && ls -lA --time-style=full-iso . && find . -type f | sort | xargs sha256sum)
}
before=$(snapshot)

refuse() {  # label, exit status wanted, regex the error line must match, export args...
  local label=$1 want=$2 pattern=$3
  shift 3
  local rc=0
  "$E2O_BIN" export "$@" >"$WORK/$label.stdout" 2>"$WORK/$label.stderr" || rc=$?
  if [[ $rc -ne $want ]]; then
    echo "$label: exit code $rc, expected $want" >&2
    cat "$WORK/$label.stderr" >&2
    exit 1
  fi
  local lines
  lines=$(grep -c '^embed2onnx: error: ' "$WORK/$label.stderr" || true)
  if [[ "$lines" != 1 ]] || ! grep '^embed2onnx: error: ' "$WORK/$label.stderr" | grep -Eq -e "$pattern"; then
    echo "$label: expected one 'embed2onnx: error:' line matching /$pattern/; stderr was:" >&2
    cat "$WORK/$label.stderr" >&2
    exit 1
  fi
  local after
  after=$(snapshot)
  if [[ "$after" != "$before" ]]; then
    echo "$label: the previous export in $OUT changed:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
  fi
  echo "$label: refused with exit $rc: $(grep '^embed2onnx: error: ' "$WORK/$label.stderr")"
}

refuse nonfinite 1 '[Rr]ow[^0-9]{0,3}7([^0-9]|$)' --model-dir "$BAD" --out-dir "$OUT"
refuse missing_dir 1 'no_such_model' --model-dir "$WORK/no_such_model" --out-dir "$OUT"
refuse unknown_tier 2 "--tiers: unknown tier 'int9'" --model-dir "$GOOD" --out-dir "$OUT" --tiers fp32,int9
refuse unknown_variant 2 'variant' --variant large --root "$WORK"
refuse no_source 2 '--variant or --model-dir' --tiers fp32
refuse empty_tiers 2 "--tiers: no tier named" --model-dir "$GOOD" --out-dir "$OUT" --tiers ''
# "all" is what --help calls the default: accepted, and the same five tiers.
"$E2O_BIN" export --model-dir "$GOOD" --out-dir "$WORK/all" --tiers all -q
[[ $(ls "$WORK/all"/embed_tokens*.onnx | wc -l) -eq 5 ]] || { echo "--tiers all did not write five tiers" >&2; exit 1; }
official_check "$WORK"
echo "bad_input: ok"
