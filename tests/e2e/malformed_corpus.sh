#!/usr/bin/env bash
# Malformed checkpoints are refused without touching a previous good export.
#
# make_malformed.py writes ~60 broken checkpoints (header length, header bytes, JSON,
# every entry field, shapes, data, NaN/inf, table lookup, folder, index, shards, preset
# mode, --variant all with one broken variant). Each is exported over a folder holding a
# good export, and must give:
#   - exit code 1..125 (no crash, no hang: a run is killed after 60 s);
#   - stderr exactly one line "embed2onnx: error: ..." matching the case's pattern, which
#     names the offending file (and the tensor or row where that is the point);
#   - nothing on stdout;
#   - the previous export unchanged: every path, type, size, mtime and sha256. For errors
#     found before streaming starts the folder's own mtime must be unchanged too (the
#     folder was never written); for NaN/inf, found while streaming, staged files came and
#     went, so only the folder's contents are compared.
# Each case runs a second time into a folder that does not exist yet: same refusal, and
# no folder left behind.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python3}
rm -rf "$WORK" && mkdir -p "$WORK"
source "$(dirname "$0")/lib/official_check.sh"
CASES="$WORK/cases"
OUT="$WORK/out"
ROOT="$WORK/root"
PRESET_MODEL="$ROOT/models/granite-speech-4.1-2b"
PRESET_OUT="$ROOT/exports/granite-speech-4.1-2b"

"$PYTHON" "$HERE/make_malformed.py" "$CASES"
"$E2O_GEN" --out "$WORK/good" --vocab 1000 --hidden 64 --seed 71 >/dev/null
"$E2O_BIN" export --quiet --model-dir "$WORK/good" --out-dir "$OUT"
"$E2O_GEN" --out "$ROOT/good-base" --vocab 300 --hidden 32 --seed 72 \
  --tensor language_model.model.embed_tokens.weight >/dev/null
mkdir -p "$ROOT/models" && cp -a "$ROOT/good-base" "$PRESET_MODEL"
"$E2O_BIN" export --quiet --variant base --root "$ROOT"
# --variant all: good base (exported once) and nar (the newer tensor name, so --tensor
# fits both); each case supplies plus.
ALL="$WORK/root_all"
mkdir -p "$ALL/models"
cp -a "$ROOT/good-base" "$ALL/models/granite-speech-4.1-2b"
cp -a "$ROOT/good-base" "$ALL/models/granite-speech-4.1-2b-nar"
"$E2O_BIN" export --quiet --variant base --root "$ALL"

snapshot() {  # folder, with_self (1: include the folder's own entry and mtime)
  local dir=$1 depth=1
  [[ $2 == 1 ]] && depth=0
  find "$dir" -mindepth $depth -printf '%P|%y|%s|%T@\n' | sort
  (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

fail() {
  echo "FAIL $name: $*" >&2
  echo "--- stderr:" >&2
  cat "$WORK/err" >&2
  echo "--- stdout:" >&2
  cat "$WORK/stdout" >&2
  failures=$((failures + 1))
}

# Runs the export, checks exit code, stdout and stderr; sets $line to the error line.
run_refused() {  # expected pattern, export args...
  local pattern=$1
  shift
  rc=0
  timeout -s KILL 60 "$E2O_BIN" export "$@" >"$WORK/stdout" 2>"$WORK/err" || rc=$?
  line=$(head -n 1 "$WORK/err")
  if ((rc < 1 || rc > 125)); then
    fail "exit code $rc, expected 1..125"
    return 1
  fi
  if [[ $(wc -l <"$WORK/err") != 1 || $line != "embed2onnx: error: "* ]]; then
    fail "stderr is not exactly one 'embed2onnx: error: ' line"
    return 1
  fi
  if ! grep -Eq -- "$pattern" <<<"$line"; then
    fail "error line does not match /$pattern/"
    return 1
  fi
  if [[ -s $WORK/stdout ]]; then
    fail "stdout is not empty"
    return 1
  fi
}

failures=0
count=0
good_files=$(snapshot "$OUT" 0)
preset_files=$(snapshot "$PRESET_OUT" 0)
check_unchanged() {  # folder, with_self, snapshot before the run, the export's files at the start
  local now
  now=$(snapshot "$1" "$2")
  if [[ $now != "$3" ]]; then
    fail "the previous export in $1 changed"
    diff <(echo "$3") <(echo "$now") >&2 || true
    return 1
  fi
  if [[ $(snapshot "$1" 0) != "$4" ]]; then
    fail "the export in $1 is not the one made at the start"
    return 1
  fi
}
while IFS=$'\t' read -r name mode touches pattern args; do
  count=$((count + 1))
  read -r -a extra <<<"$args"
  with_self=$((1 - touches))
  if [[ $mode == preset_all ]]; then
    rm -rf "$ALL/models/granite-speech-4.1-2b-plus"
    cp -a "$CASES/$name" "$ALL/models/granite-speech-4.1-2b-plus"
    want=$(snapshot "$ALL/exports" 1)
    run_refused "$pattern" --variant all --root "$ALL" "${extra[@]}" || continue
    if [[ $(snapshot "$ALL/exports" 1) != "$want" ]]; then
      fail "$ALL/exports changed: a variant was exported before the broken one was found"
      diff <(echo "$want") <(snapshot "$ALL/exports" 1) >&2 || true
      continue
    fi
    echo "ok $name: exit $rc: $line"
    continue
  fi
  if [[ $mode == preset ]]; then
    rm -rf "$PRESET_MODEL"
    if [[ -e "$CASES/$name" ]]; then cp -a "$CASES/$name" "$PRESET_MODEL"; fi
    exports_before=$(ls -A "$ROOT/exports")
    want=$(snapshot "$PRESET_OUT" "$with_self")
    run_refused "$pattern" --variant base --root "$ROOT" "${extra[@]}" || continue
    check_unchanged "$PRESET_OUT" "$with_self" "$want" "$preset_files" || continue
    if [[ $(ls -A "$ROOT/exports") != "$exports_before" ]]; then
      fail "$ROOT/exports holds new entries: $(ls -A "$ROOT/exports" | tr '\n' ' ')"
      continue
    fi
    echo "ok $name: exit $rc: $line"
    continue
  fi
  want=$(snapshot "$OUT" "$with_self")
  run_refused "$pattern" --model-dir "$CASES/$name" --out-dir "$OUT" "${extra[@]}" || continue
  check_unchanged "$OUT" "$with_self" "$want" "$good_files" || continue
  first=$line
  # Into a folder that does not exist: same error, and no folder left behind.
  run_refused "$pattern" --model-dir "$CASES/$name" --out-dir "$WORK/fresh/a/b" "${extra[@]}" || continue
  if [[ -e $WORK/fresh ]]; then
    fail "left $(find "$WORK/fresh" | tr '\n' ' ')behind"
    rm -rf "$WORK/fresh"
    continue
  fi
  if [[ $line != "$first" ]]; then
    fail "a fresh out dir gave a different error: $line"
    continue
  fi
  echo "ok $name: exit $rc: $line"
done <"$CASES/cases.tsv"

if ((failures > 0)); then
  echo "malformed_corpus: $failures of $count cases failed" >&2
  exit 1
fi
official_check "$WORK"
echo "malformed_corpus: ok ($count cases)"
