#!/usr/bin/env bash
# Hostile .onnx files: `embed2onnx inspect` and ONNX Runtime 1.30 must agree on each.
#
# make_hostile_onnx.py writes ~40 small models (locations that are absolute, climb out
# with "..", or leave the folder through a symlink to /etc/passwd or elsewhere; the
# Hugging Face cache layout, flat and sharded; empty, truncated and non-ONNX files;
# missing sidecars, ranges that do not fit, bad external-data keys; a name that is not
# UTF-8) and the manifest of what ORT does with each. For every case:
#   - ORT's InferenceSession.create (tests/ort/load_model.mjs) still gives the manifest's
#     verdict, so the manifest records ORT 1.30 and not our guess;
#   - `inspect` and `inspect --json` agree with it: exit 0 and no stderr when ORT loads
#     the model; otherwise exit 1 and exactly one line "embed2onnx: error: ..." matching
#     the case's pattern (it names the file and the initializer). "stricter" cases are
#     the documented ones where we refuse what ORT loads;
#   - whatever --json prints parses as JSON (python3) with "ok" matching the exit code.
# Then `verify` on an export whose sidecar was replaced by a symlink out of the folder:
# ORT refuses it and verify reports the tier as failed, naming the file.
# Prints the ORT-vs-ours table.
source "$(dirname "$0")/lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python3}
CASES="$WORK/cases"
"$PYTHON" "$HERE/make_hostile_onnx.py" "$CASES"
cd "$CASES"

mapfile -t models < <(cut -f2 cases.tsv)
timeout 120 "$NODE" "$ORT_DIR/load_model.mjs" "${models[@]}" >ort.tsv 2>ort.log

fail=0
bad() {
  echo "FAIL $1: $2" >&2
  fail=1
}
printf '%-40s %-8s %-8s %s\n' case ORT ours "our error line" >table.txt
while IFS=$'\t' read -r name model expect pattern; do
  ort=$(awk -F'\t' -v m="$model" '$1 == m { print $2; exit }' ort.tsv)
  want_ort=$expect
  [[ $expect == stricter ]] && want_ort=accept
  [[ $ort == "$want_ort" ]] || bad "$name" "ONNX Runtime says '${ort:-nothing}', the manifest '$want_ort'" \
    "($(awk -F'\t' -v m="$model" '$1 == m { print $3 }' ort.tsv))"

  rc=0
  timeout 30 "$E2O_BIN" inspect "$model" >"$name.txt" 2>"$name.err" || rc=$?
  jrc=0
  timeout 30 "$E2O_BIN" inspect --json "$model" >"$name.json" 2>"$name.jerr" || jrc=$?
  [[ $rc == "$jrc" ]] || bad "$name" "inspect exits $rc, inspect --json $jrc"
  cmp -s "$name.err" "$name.jerr" || bad "$name" "inspect and inspect --json print different errors"
  if [[ $expect == accept ]]; then
    ours=accept
    [[ $rc == 0 ]] || ours=refuse
    [[ $rc == 0 && ! -s $name.err ]] || bad "$name" "ORT loads it, inspect exits $rc: $(head -c 300 "$name.err")"
  else
    ours=refuse
    [[ $rc == 0 ]] && ours=accept
    [[ $rc == 1 ]] || bad "$name" "expected exit 1, got $rc"
    [[ $(wc -l <"$name.err") == 1 ]] || bad "$name" "expected one error line, got: $(cat "$name.err")"
    grep -qE "^embed2onnx: error: .*$pattern" "$name.err" ||
      bad "$name" "error line does not match /$pattern/: $(cat "$name.err")"
  fi
  if [[ -s $name.json ]]; then
    "$PYTHON" - "$name.json" "$rc" <<'EOF' || bad "$name" "inspect --json output is not what it should be"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))  # must parse, strictly as UTF-8
assert j["ok"] == (sys.argv[2] == "0"), (j["ok"], sys.argv[2])
assert ("error" in j) == (not j["ok"])
EOF
  elif [[ $rc == 0 ]]; then
    bad "$name" "inspect --json printed nothing"
  fi
  printf '%-40s %-8s %-8s %s\n' "$name" "$ort" "$ours" "$(cut -c20-140 "$name.err")" >>table.txt
done <cases.tsv
cat table.txt

# The name that is not UTF-8: readable in "name", exact in "name_hex".
"$PYTHON" - name_not_utf8.json <<'EOF' || bad name_not_utf8 "name_hex does not give the bytes back"
import json, sys
init = json.load(open(sys.argv[1], encoding="utf-8"))["initializers"][0]
assert bytes.fromhex(init["name_hex"]) == b"embed\xff\xfe", init
assert init["name"] == "embed\ufffd\ufffd", init
EOF

# verify refuses what inspect and ORT refuse: an export whose sidecar links out of it.
"$E2O_GEN" --out "$WORK/ckpt" --vocab 300 --hidden 32 --seed 9 >/dev/null
"$E2O_BIN" export --quiet --model-dir "$WORK/ckpt" --out-dir "$WORK/exp" --tiers fp32,int8
mkdir -p "$WORK/elsewhere"
mv "$WORK/exp/embed_tokens_int8.onnx_data" "$WORK/elsewhere/"
ln -s "$WORK/elsewhere/embed_tokens_int8.onnx_data" "$WORK/exp/embed_tokens_int8.onnx_data"
verdict=$(timeout 60 "$NODE" "$ORT_DIR/load_model.mjs" "$WORK/exp/embed_tokens_int8.onnx" | cut -f2)
[[ $verdict == refuse ]] || bad verify_symlink "ONNX Runtime loads an export whose sidecar links outside"
rc=0
"$E2O_BIN" verify "$WORK/exp" --model-dir "$WORK/ckpt" >"$WORK/verify.out" 2>"$WORK/verify.err" || rc=$?
[[ $rc == 1 ]] || bad verify_symlink "verify exits $rc"
grep -qE "^  FAIL int8 .*embed_tokens_int8.onnx_data: resolves to .*elsewhere.*outside" "$WORK/verify.out" ||
  bad verify_symlink "verify does not name the escaping sidecar: $(cat "$WORK/verify.out")"
grep -qE "^  ok   fp32 " "$WORK/verify.out" || bad verify_symlink "the good tier is not verified"
[[ $(wc -l <"$WORK/verify.err") == 1 ]] || bad verify_symlink "expected one error line: $(cat "$WORK/verify.err")"

[[ $fail == 0 ]] || exit 1
# The hostile cases, and the export whose sidecar now links out of it, are broken on purpose.
official_check --exclude "cases/*" --exclude exp/embed_tokens_int8.onnx "$WORK"
echo "hostile_onnx: inspect and ONNX Runtime agree on $(wc -l <cases.tsv) cases; verify refuses an escaping sidecar"
