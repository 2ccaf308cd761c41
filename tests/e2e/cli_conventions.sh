#!/usr/bin/env bash
# The conventions people bring from git and GNU tools: `help [COMMAND]`, `version`, `-V`,
# "did you mean" for a mistyped command, errors inside a command pointing to that
# command's --help, and the documented exit statuses (0 success, 2 usage); every help
# within 100 columns; and --json's error document on stdout when a command fails before
# it has a result (one JSON object: ok false, the error line's message, the exit status).
source "$(dirname "$0")/lib/common.sh"

expect() {  # label, exit status wanted, regex the output must match, args...
  local label=$1 want=$2 pattern=$3 rc=0
  shift 3
  "$E2O_BIN" "$@" >"$WORK/$label.out" 2>&1 || rc=$?
  [[ $rc -eq $want ]] || { echo "$label: exit $rc, expected $want:" >&2; cat "$WORK/$label.out" >&2; exit 1; }
  grep -Eq -e "$pattern" "$WORK/$label.out" || { echo "$label: output lacks /$pattern/:" >&2; cat "$WORK/$label.out" >&2; exit 1; }
  if [[ $want -ne 0 ]]; then
    [[ $(grep -c '^embed2onnx: error: ' "$WORK/$label.out") -eq 1 ]] || { echo "$label: not one error line" >&2; exit 1; }
  fi
  echo "$label: exit $rc"
}

expect version 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' --version
expect version_short 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' -V
expect version_word 0 '^embed2onnx [0-9]+\.[0-9]+\.[0-9]+$' version
expect help 0 'Usage: embed2onnx' help
expect help_export 0 'Usage: embed2onnx export' help export
expect help_verify 0 '--model-dir' help verify
expect help_unknown 2 "unknown command 'exprt' \(did you mean 'export'\?\)" help exprt
expect typo 2 "unknown command 'exprot' \(did you mean 'export'\?\)" exprot
expect typo_verify 2 "did you mean 'verify'" verfy x
expect far_word 2 "unknown command 'frobnicate'; commands:" frobnicate
expect export_flag 2 'see embed2onnx export --help' export --bogus
expect verify_flag 2 'see embed2onnx verify --help' verify
expect top_flag 2 'see embed2onnx --help' --foo

# Every help, however it is asked for, within 100 columns (counted in code points).
widest() { python3 -c 'import sys; print(max((len(l.rstrip("\n")) for l in sys.stdin.read().splitlines()), default=0))'; }
for args in "--help" "help" "help export" "export --help" "help verify" "verify --help" "help inspect" \
  "inspect --help"; do
  # shellcheck disable=SC2086
  "$E2O_BIN" $args >"$WORK/help.out"
  lines=$(wc -l <"$WORK/help.out")
  width=$(widest <"$WORK/help.out")
  [[ $lines -ge 5 ]] || { echo "help ($args): only $lines lines" >&2; exit 1; }
  [[ $width -le 100 ]] || { echo "help ($args): a line of $width columns:" >&2; awk 'length > 100' "$WORK/help.out" >&2; exit 1; }
  echo "help ($args): $lines lines, widest $width columns"
done
# Wrapping keeps every word: export's help still names every flag and the default block rule.
"$E2O_BIN" export --help >"$WORK/help.out"
for word in --variant --root --model-dir --out-dir --tensor --tiers --threads --int4-block --fsync --json \
  --dry-run --quiet "smallest from 34 to 64"; do
  grep -q -e "$word" "$WORK/help.out" || { echo "export --help lost '$word'" >&2; exit 1; }
done

# --json on failure: exactly one JSON document on stdout, and the one error line on stderr.
json_error() {  # label, exit status wanted, args...
  local label=$1 want=$2 rc=0
  shift 2
  "$E2O_BIN" "$@" >"$WORK/$label.json" 2>"$WORK/$label.err" || rc=$?
  [[ $rc -eq $want ]] || { echo "$label: exit $rc, expected $want" >&2; cat "$WORK/$label.err" >&2; exit 1; }
  [[ $(grep -c '^embed2onnx: error: ' "$WORK/$label.err") -eq 1 ]] || { echo "$label: not one error line" >&2; exit 1; }
  python3 - "$WORK/$label.json" "$WORK/$label.err" "$want" <<'PY' || { echo "$label: bad JSON error document" >&2; cat "$WORK/$label.json" >&2; exit 1; }
import json, sys
doc = json.loads(open(sys.argv[1]).read())  # one document, nothing else on stdout
err = open(sys.argv[2]).read().strip()
assert doc["ok"] is False, doc
assert doc["exit_status"] == int(sys.argv[3]), doc
assert err == "embed2onnx: error: " + doc["error"], (err, doc["error"])
PY
  echo "$label: exit $rc, JSON error: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$WORK/$label.json")"
}
mkdir -p "$WORK/empty"
json_error verify_missing_folder 2 verify "$WORK/nope" --json
json_error verify_no_report 2 verify "$WORK/empty" --json
json_error verify_no_flag_value 2 verify --json
json_error inspect_missing 2 inspect "$WORK/nope.onnx" --json
json_error inspect_missing_ckpt 2 inspect "$WORK/nope" --json
json_error export_bad_flag 2 export --bogus --json
json_error export_no_source 2 export --json
json_error export_bad_tiers 2 export --model-dir "$WORK/empty" --out-dir "$WORK/o" --tiers fp33 --json
json_error export_no_checkpoint 1 export --model-dir "$WORK/nope" --out-dir "$WORK/o" --json
[[ ! -e "$WORK/o" ]] || { echo "a refused export created its output folder" >&2; exit 1; }

# A value forgotten before the next option: CLI11 alone took "--quiet" as the folder's
# name and exported into ./--quiet. Refused, naming both, with nothing written; a path
# that really starts with dashes still works written as ./--quiet.
(cd "$WORK" && expect out_dir_is_a_flag 2 '^embed2onnx: error: --out-dir: --quiet is an option of export, not a value' \
  export --model-dir "$WORK/empty" --out-dir --quiet)
[[ ! -e "$WORK/--quiet" ]] || { echo "export --out-dir --quiet created ./--quiet" >&2; exit 1; }
expect tiers_is_a_flag 2 '^embed2onnx: error: --tiers: -n is an option of export' export --tiers -n
expect verify_model_dir_is_a_flag 2 '^embed2onnx: error: --model-dir: --json is an option of verify' \
  verify --model-dir --json "$WORK/empty"
"$E2O_GEN" --out "$WORK/ck" --vocab 16 --hidden 8 --dtype bf16 --seed 7 >/dev/null
(cd "$WORK" && expect dashed_path 0 'report embed_tokens_parity.json' export --model-dir ck --out-dir ./--quiet --tiers fp16w)
[[ -f "$WORK/--quiet/embed_tokens_fp16w.onnx" ]] || { echo "export --out-dir ./--quiet wrote no graph there" >&2; exit 1; }
echo "cli_conventions: ok"
