#!/usr/bin/env bash
# verify DIR with no checkpoint flags: the checkpoint and tensor come from the report, its
# path relative to the report's folder first (an export moved together with its
# checkpoint), then absolute (an export moved on its own). --model-dir and --tensor
# override. A recorded checkpoint that is gone gives one error line naming it, exit 2, and
# with --json one error document. An export of the original script (no checkpoint in its
# report) asks for --model-dir.
source "$(dirname "$0")/lib/common.sh" "$@"
fail() { echo "verify_from_report: $*" >&2; exit 1; }

ROOT="$WORK/tree"
"$E2O_GEN" --out "$ROOT/models/granite-speech-4.1-2b" --vocab 100353 --hidden 32 --seed 51 >/dev/null
"$E2O_BIN" export --quiet --variant base --root "$ROOT" --tiers fp16w,int8
EXP="$ROOT/exports/granite-speech-4.1-2b"

# 1. In place, from another working folder, with a relative export path.
(cd "$WORK" && "$E2O_BIN" verify tree/exports/granite-speech-4.1-2b) >"$WORK/v1.out"
cat "$WORK/v1.out"
grep -q 'from the report, relative' "$WORK/v1.out" || fail "the checkpoint did not come from the report"
grep -q 'against language_model.model.embed_tokens.weight \[100353 x 32\]' "$WORK/v1.out" || fail "wrong table"

# 2. The whole tree moved: the relative path still finds it.
mv "$ROOT" "$WORK/moved-tree"
"$E2O_BIN" verify "$WORK/moved-tree/exports/granite-speech-4.1-2b" --json >"$WORK/v2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and [f["splice"] for f in d["files"]] == [False, False, True, True], d; print("moved tree: ok,", d["checkpoint"])' "$WORK/v2.json"

# 3. The export moved on its own (its checkpoint back where it was): the absolute path finds it.
mv "$WORK/moved-tree" "$ROOT"
mkdir -p "$WORK/elsewhere/deeper"
cp -r "$EXP" "$WORK/elsewhere/deeper/copy"
"$E2O_BIN" verify "$WORK/elsewhere/deeper/copy" >"$WORK/v3.out"
grep -q 'from the report, absolute' "$WORK/v3.out" || fail "the absolute path was not used: $(cat "$WORK/v3.out")"

# 4. The checkpoint is gone: one line saying so, exit 2; --json: one error document.
mv "$ROOT/models" "$WORK/models-away"
rc=0
"$E2O_BIN" verify "$WORK/elsewhere/deeper/copy" >"$WORK/v4.out" 2>"$WORK/v4.err" || rc=$?
[[ $rc -eq 2 ]] || fail "a moved checkpoint: exit $rc"
[[ $(wc -l <"$WORK/v4.err") -eq 1 ]] || fail "not one line: $(cat "$WORK/v4.err")"
grep -q '^embed2onnx: error: .*embed_tokens_parity.json: the checkpoint it records has moved or is gone: not at .*model.safetensors.*; give its new place with --model-dir$' "$WORK/v4.err" \
  || fail "unclear error: $(cat "$WORK/v4.err")"
echo "moved away: $(cat "$WORK/v4.err")"
rc=0
"$E2O_BIN" verify "$WORK/elsewhere/deeper/copy" --json >"$WORK/v4.json" 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || fail "a moved checkpoint with --json: exit $rc"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["exit_status"] == 2 and "has moved or is gone" in d["error"], d' "$WORK/v4.json"

# 5. --model-dir overrides, and the table is then found in that checkpoint.
"$E2O_BIN" verify "$WORK/elsewhere/deeper/copy" --model-dir "$WORK/models-away/granite-speech-4.1-2b" >"$WORK/v5.out"
grep -q "checkpoint $WORK/models-away/granite-speech-4.1-2b\$" "$WORK/v5.out" || fail "--model-dir not used: $(cat "$WORK/v5.out")"
mv "$WORK/models-away" "$ROOT/models"

# 6. Generic mode: the report names the tensor verified; --tensor is still accepted.
"$E2O_GEN" --out "$WORK/two" --vocab 300 --hidden 32 --seed 52 --tensor model.embed_tokens.weight >/dev/null
"$E2O_BIN" export --quiet --model-dir "$WORK/two" --out-dir "$WORK/two-out" --tiers fp32
"$E2O_BIN" verify "$WORK/two-out" | grep -q 'against model.embed_tokens.weight' || fail "tensor not from the report"
"$E2O_BIN" verify "$WORK/two-out" --tensor model.embed_tokens.weight >/dev/null || fail "--tensor refused"

# 7. No report at all (only graphs): --model-dir is needed, and the error says so.
mkdir -p "$WORK/bare"
cp "$WORK/two-out/embed_tokens.onnx" "$WORK/two-out/embed_tokens.onnx_data" "$WORK/bare/"
rc=0
"$E2O_BIN" verify "$WORK/bare" 2>"$WORK/v7.err" || rc=$?
[[ $rc -eq 2 ]] && grep -q 'no report to take the checkpoint from.*give it with --model-dir' "$WORK/v7.err" \
  || fail "no report: exit $rc: $(cat "$WORK/v7.err")"
"$E2O_BIN" verify "$WORK/bare" --model-dir "$WORK/two" >/dev/null || fail "--model-dir with no report"
echo "verify_from_report: ok"
