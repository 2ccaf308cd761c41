#!/usr/bin/env bash
# SIGINT and SIGTERM mid-export: the run removes its own temporaries before it ends, ends
# by the signal (exit status 130 / 143), and the previous export in the folder stays byte
# for byte. Signals go in at three moments: as soon as the first temporary exists, while
# rows stream (a staged sidecar past 8 MiB), and once every staged graph is written (read
# back, report, commit: a short window, so the run may finish first). A run that finished
# before its signal must have left the complete new export instead; either outcome is
# checked. A SIGINT that the run inherited as ignored (a background job of a script)
# stays ignored: that run completes.
source "$(dirname "$0")/lib/common.sh" "$@"
TMP_GLOB='.embed2onnx-tmp-*'
die() { echo "FAIL $*" >&2; exit 1; }

snapshot() {  # every entry of a folder: path, type, size; then the sha256 of every file
  find "$1" -mindepth 1 -printf '%P|%y|%s\n' | sort
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

PREV="$WORK/prev_ckpt"
"$E2O_GEN" --out "$PREV" --vocab 1000 --hidden 64 --seed 71 >/dev/null
BIG="$WORK/big_ckpt"  # fp32 sidecar ~98 MiB: one thread takes about 1-2 s to export it
"$E2O_GEN" --out "$BIG" --vocab 100353 --hidden 256 --seed 72 >/dev/null
REF="$WORK/reference"  # the complete new export, to compare a run that finished with
"$E2O_BIN" export --quiet --threads 1 --model-dir "$BIG" --out-dir "$REF"
OUT="$WORK/out"
SAVED="$WORK/previous"
"$E2O_BIN" export --quiet --model-dir "$PREV" --out-dir "$SAVED"
before=$(snapshot "$SAVED")

# Waits until the moment has come in $OUT, or the run $1 has ended.
wait_for() {  # pid, moment
  local i
  for ((i = 0; i < 6000; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    case $2 in
      early) [[ -n $(find "$OUT" -maxdepth 1 -name "$TMP_GLOB" -print -quit) ]] && return 0 ;;
      stream) [[ -n $(find "$OUT" -maxdepth 1 -name "$TMP_GLOB" -size +8M -print -quit) ]] && return 0 ;;
      graphs) (($(find "$OUT" -maxdepth 1 -name "$TMP_GLOB.onnx" | wc -l) == 5)) && return 0 ;;
    esac
    sleep 0.005
  done
}

# The run ended by the signal with the previous export intact, or finished with the
# new one: with exit 0, or by the signal if it came during the commit (which it waits for).
is_new_export() {
  [[ $(ls -A "$OUT") == $(ls -A "$REF") ]] || return 1
  local f
  for f in "$REF"/*.onnx "$REF"/*.onnx_data; do cmp -s "$f" "$OUT/$(basename "$f")" || return 1; done
  grep -qF "\"checkpoint\": \"$BIG/" "$OUT/embed_tokens_parity.json"
}
check_outcome() {  # label, exit status, signal number; returns 1 if the run was interrupted
  local label=$1 rc=$2 signo=$3 left
  left=$(find "$OUT" -maxdepth 1 -name "$TMP_GLOB" -printf '%f ')
  [[ -z $left ]] || die "$label: exit $rc left temporaries: $left"
  ((rc == 0 || rc == 128 + signo)) || die "$label: exit $rc, expected $((128 + signo)) or 0; stderr: $(cat "$WORK/run.err")"
  if [[ $(snapshot "$OUT") == "$before" ]]; then
    ((rc != 0)) || die "$label: exit 0, but the folder still holds the previous export"
    echo "$label: interrupted (exit $rc); no temporaries left; previous export byte-identical"
    return 1
  fi
  if ! is_new_export; then
    diff <(echo "$before") <(snapshot "$OUT") >&2 || true
    die "$label: exit $rc, and the folder holds neither the previous export nor the whole new one"
  fi
  echo "$label: exit $rc with the complete new export (the signal came during or after the commit)"
  return 0
}

interrupted=0
for sig in INT TERM; do
  signo=$(kill -l "$sig")
  for moment in early stream graphs; do
    rm -rf "$OUT" && cp -a "$SAVED" "$OUT"
    # A background job of a script starts with SIGINT ignored; the user's terminal would
    # not do that, so the run gets the default dispositions back.
    env --default-signal=INT,TERM "$E2O_BIN" export --quiet --threads 1 --model-dir "$BIG" --out-dir "$OUT" \
      2>"$WORK/run.err" &
    pid=$!
    wait_for $pid $moment
    kill -s "$sig" $pid 2>/dev/null || true
    rc=0
    wait $pid || rc=$?
    if ! check_outcome "SIG$sig $moment" $rc "$signo"; then
      interrupted=$((interrupted + 1))
    elif [[ $moment != graphs ]]; then
      die "SIG$sig $moment: the run finished before the signal (too fast? raise V or D)"
    fi
  done
done
((interrupted >= 4)) || die "only $interrupted runs were interrupted"

# Inherited as ignored, SIGINT does not stop the run: it completes.
rm -rf "$OUT" && cp -a "$SAVED" "$OUT"
(trap '' INT && exec "$E2O_BIN" export --quiet --threads 1 --model-dir "$BIG" --out-dir "$OUT") 2>"$WORK/run.err" &
pid=$!
wait_for $pid stream
kill -s INT $pid 2>/dev/null || true
rc=0
wait $pid || rc=$?
((rc == 0)) || die "SIGINT ignored: exit $rc; stderr: $(cat "$WORK/run.err")"
check_outcome "SIGINT ignored" $rc 2 >/dev/null || die "SIGINT ignored: not a complete export"
echo "SIGINT ignored: the run completed its export"
official_check "$WORK"
echo "interrupt: ok ($interrupted of 6 runs interrupted)"
