#!/usr/bin/env bash
# Faults while writing, and concurrent runs: an export either lands whole or not at all,
# and a previous export in the folder survives every failure byte for byte.
#   efbig     a write fails part-way (ulimit -f; SIGXFSZ ignored, so write() says EFBIG)
#   kill      SIGKILL mid-export leaves the previous export and stale temporaries; the
#             next run removes those and succeeds
#   race      runs started together into one folder: each waits for the folder lock,
#             the last one's export is what stays; a failing run that created the
#             folder must not pull it from under a run waiting for it
#   enospc    a full filesystem (a tmpfs, needs mount; skipped with a note otherwise),
#             swept page by page over every point where the export can run out
#   bad_out   an out dir that is a file, or under a file
set -euo pipefail
# A tmpfs still mounted by a run that was killed must go before the folder is emptied.
MNT="${1:?usage: $0 WORKDIR}/tmpfs"
if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT"; fi
source "$(dirname "$0")/lib/common.sh"
TMP_GLOB='.embed2onnx-tmp-*'

die() { echo "FAIL $*" >&2; exit 1; }
section() { echo "=== $1 ($(date +%T))"; }

# Every file in the folder (not the folder itself): path, type, size, mtime, sha256.
snapshot() {
  find "$1" -mindepth 1 -printf '%P|%y|%s|%T@\n' | sort
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
temporaries() { find "$1" -maxdepth 1 -name "$TMP_GLOB" -printf '%f\n' | sort; }
expect_unchanged() {  # label, folder, snapshot before
  local now
  now=$(snapshot "$2")
  if [[ $now != "$3" ]]; then
    diff <(echo "$3") <(echo "$now") >&2 || true
    die "$1: the previous export in $2 changed"
  fi
}
expect_no_temporaries() {  # label, folder
  local left
  left=$(temporaries "$2")
  [[ -z $left ]] || die "$1: temporaries left in $2: $left"
}
# One "embed2onnx: error:" line and nothing else on stderr, matching a pattern.
expect_one_error() {  # label, stderr file, pattern
  local line
  line=$(head -n 1 "$2")
  if [[ $(wc -l <"$2") != 1 || $line != "embed2onnx: error: "* ]] || ! grep -Eq -- "$3" <<<"$line"; then
    echo "--- stderr:" >&2
    cat "$2" >&2
    die "$1: expected exactly one 'embed2onnx: error:' line matching /$3/"
  fi
  echo "$1: $line"
}
expect_refused() {  # label, exit code
  ((${2} >= 1 && ${2} <= 125)) || die "$1: exit code $2, expected 1..125"
}
check_export() {  # export dir, checkpoint dir
  "$NODE" "$CHECK" --export-dir "$1" --model-dir "$2" --report "$1/embed_tokens_parity.json" --random 64
}
# Same graphs and sidecars as a reference export (the exporter is deterministic; the
# report differs in its timings only).
same_export() {  # label, export dir, reference export dir
  local f
  [[ $(ls -A "$2") == "$EXPORT_FILES" ]] || die "$1: $2 holds $(ls -A "$2" | tr '\n' ' ')"
  for f in "$3"/*.onnx "$3"/*.onnx_data; do
    cmp -s "$f" "$2/$(basename "$f")" || die "$1: $(basename "$f") differs from a sequential export"
  done
}
report_checkpoint() {  # export dir -> info.checkpoint of its report
  "$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).info.checkpoint)' \
    "$1/embed_tokens_parity.json"
}

PREV="$WORK/prev_ckpt"  # every folder starts out holding this checkpoint's export
"$E2O_GEN" --out "$PREV" --vocab 1000 --hidden 64 --seed 91 >/dev/null
previous_export() { "$E2O_BIN" export --quiet --model-dir "$PREV" --out-dir "$1"; }
previous_export "$WORK/out_reference"
EXPORT_FILES=$(ls -A "$WORK/out_reference")  # what one complete export holds

# ---------------------------------------------------------------------------------------
section efbig
CK="$WORK/ckpt_20000x128"
"$E2O_GEN" --out "$CK" --vocab 20000 --hidden 128 --seed 92 >/dev/null  # fp32 sidecar ~10 MB
OUT="$WORK/out_efbig"
previous_export "$OUT"
before=$(snapshot "$OUT")
# 2 MiB: fails in the first sidecar; 9 MiB: the smaller tiers fit, fp32 fails near its end.
for limit_kb in 2048 9216; do
  rc=0
  (ulimit -f $limit_kb; trap '' XFSZ; exec "$E2O_BIN" export --model-dir "$CK" --out-dir "$OUT") \
    >"$WORK/efbig.out" 2>"$WORK/efbig.err" || rc=$?
  expect_refused "efbig ${limit_kb}K" $rc
  expect_one_error "efbig ${limit_kb}K" "$WORK/efbig.err" 'embed_tokens[a-z0-9_]*\.onnx(_data)?: .*File too large'
  expect_unchanged "efbig ${limit_kb}K" "$OUT" "$before"
  expect_no_temporaries "efbig ${limit_kb}K" "$OUT"
done

# ---------------------------------------------------------------------------------------
section kill
BIG="$WORK/ckpt_big"
"$E2O_GEN" --out "$BIG" --vocab 100353 --hidden 256 --seed 93 >/dev/null  # fp32 sidecar ~98 MiB
OUT="$WORK/out_kill"
previous_export "$OUT"
before=$(snapshot "$OUT")
# One thread: a slower run leaves a wider window to kill it in, even on a loaded machine.
"$E2O_BIN" export --quiet --threads 1 --model-dir "$BIG" --out-dir "$OUT" 2>"$WORK/kill1.err" &
pid=$!
# Kill once a staged file holds more than 1 MiB: rows are streaming.
for ((i = 0; i < 3000; i++)); do
  [[ -n $(find "$OUT" -maxdepth 1 -name "$TMP_GLOB" -size +1M -print -quit) ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.01
done
kill -KILL $pid 2>/dev/null || die "kill: the export ended before it could be killed (too fast? raise V or D)"
rc=0
wait $pid || rc=$?
[[ $rc == 137 ]] || die "kill: the export exited $rc, not by SIGKILL"
stale=$(temporaries "$OUT")
[[ -n $stale ]] || die "kill: no temporaries in $OUT after the kill"
echo "kill: killed pid $pid mid-export; left $(echo "$stale" | wc -l) temporaries"
# The previous export is intact under its names: compare everything but the temporaries.
now=$(snapshot "$OUT" | grep -v -e '^\.embed2onnx-tmp-' -e ' \./\.embed2onnx-tmp-')
[[ $now == "$before" ]] || { diff <(echo "$before") <(echo "$now") >&2 || true; die "kill: previous export changed"; }
"$E2O_BIN" export --model-dir "$BIG" --out-dir "$OUT" >/dev/null 2>"$WORK/kill2.err" || die "kill: the next run failed: $(cat "$WORK/kill2.err")"
while read -r name; do
  grep -qF "removed $name left by an interrupted run" "$WORK/kill2.err" || die "kill: the next run did not report removing $name"
done <<<"$stale"
! grep -q 'waiting' "$WORK/kill2.err" || die "kill: the next run waited for the lock of a dead run"
expect_no_temporaries kill "$OUT"
check_export "$OUT" "$BIG"

# ---------------------------------------------------------------------------------------
section race
A="$WORK/ckpt_race_a"
B="$WORK/ckpt_race_b"
"$E2O_GEN" --out "$A" --vocab 30000 --hidden 256 --seed 94 >/dev/null
"$E2O_GEN" --out "$B" --vocab 30000 --hidden 256 --seed 95 >/dev/null
# Different checkpoints, a folder holding an export: both succeed, one after the other.
OUT="$WORK/out_race"
previous_export "$OUT"
"$E2O_BIN" export --model-dir "$A" --out-dir "$OUT" >/dev/null 2>"$WORK/race_a.err" &
pa=$!
"$E2O_BIN" export --model-dir "$B" --out-dir "$OUT" >/dev/null 2>"$WORK/race_b.err" &
pb=$!
ra=0 rb=0
wait $pa || ra=$?
wait $pb || rb=$?
[[ $ra == 0 && $rb == 0 ]] || die "race: exits $ra and $rb; stderr: $(cat "$WORK/race_a.err" "$WORK/race_b.err")"
expect_no_temporaries race "$OUT"
last=$(report_checkpoint "$OUT")
case "$last" in
  "$A"/*) winner=$A waiter_err="$WORK/race_a.err" ;;
  "$B"/*) winner=$B waiter_err="$WORK/race_b.err" ;;
  *) die "race: the report names checkpoint '$last', neither of the two" ;;
esac
# A run that had to wait finished last; if one waited, its export is the one that stays.
waits=$(cat "$WORK/race_a.err" "$WORK/race_b.err" | grep -c 'waiting for it to finish' || true)
((waits <= 1)) || die "race: both runs say they waited"
if ((waits == 1)) && ! grep -q 'waiting for it to finish' "$waiter_err"; then
  die "race: the run that waited is not the one whose export stayed"
fi
echo "race: both exits 0, $waits waited; the folder holds the export of $winner"
[[ $(ls -A "$OUT") == "$EXPORT_FILES" ]] || die "race: $OUT holds $(ls -A "$OUT" | tr '\n' ' ')"
check_export "$OUT" "$winner"

# Three runs of one checkpoint into a folder none of them finds.
OUT="$WORK/out_race3/nested"
pids=()
for k in 1 2 3; do
  "$E2O_BIN" export --quiet --model-dir "$A" --out-dir "$OUT" 2>"$WORK/race3_$k.err" &
  pids+=($!)
done
for k in 0 1 2; do wait ${pids[$k]} || die "race3: run $((k + 1)) failed: $(cat "$WORK/race3_$((k + 1)).err")"; done
expect_no_temporaries race3 "$OUT"
REF_A="$WORK/out_sequential_a"
"$E2O_BIN" export --quiet --model-dir "$A" --out-dir "$REF_A"
same_export race3 "$OUT" "$REF_A"
echo "race3: three runs into one new folder: all exit 0, one export, same as a sequential one"

# A run that fails (NaN in the last row, found late) creates the folder; a good run
# waits for it. The failing run removes the folder it made; the waiting run must not
# write into the removed folder but make it again.
NAN="$WORK/ckpt_nan_late"
"$E2O_GEN" --out "$NAN" --vocab 100353 --hidden 256 --seed 96 --nonfinite 100352 >/dev/null
OUT="$WORK/out_race_fail/nested"
"$E2O_BIN" export --quiet --threads 1 --model-dir "$NAN" --out-dir "$OUT" 2>"$WORK/race_nan.err" &
pn=$!
for ((i = 0; i < 3000; i++)); do
  [[ -n $(find "$OUT" -maxdepth 1 -name "$TMP_GLOB" -print -quit 2>/dev/null) ]] && break
  sleep 0.01
done
rg=0 rn=0
"$E2O_BIN" export --model-dir "$A" --out-dir "$OUT" >/dev/null 2>"$WORK/race_good.err" || rg=$?
wait $pn || rn=$?
expect_refused "race_fail (failing run)" $rn
expect_one_error "race_fail (failing run)" "$WORK/race_nan.err" 'row 100352 '
[[ $rg == 0 ]] || die "race_fail: the good run failed: $(cat "$WORK/race_good.err")"
grep -q 'waiting for it to finish' "$WORK/race_good.err" || die "race_fail: the good run did not wait (failing run too fast?)"
expect_no_temporaries race_fail "$OUT"
same_export race_fail "$OUT" "$REF_A"
echo "race_fail: the waiting run made the folder again and exported into it"

# ---------------------------------------------------------------------------------------
section enospc
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "enospc: SKIPPED: cannot mount a small tmpfs here ($(head -n 1 "$WORK/mount.err"))"
else
  trap 'umount "$MNT" 2>/dev/null || true' EXIT
  NEW="$WORK/ckpt_2000x64"
  "$E2O_GEN" --out "$NEW" --vocab 2000 --hidden 64 --seed 97 >/dev/null
  REF="$WORK/enospc_reference"  # the new export as it must look when it lands
  "$E2O_BIN" export --quiet --model-dir "$NEW" --out-dir "$REF"
  OUT="$MNT/out"
  previous_export "$OUT"
  cp -a "$OUT" "$WORK/enospc_previous"
  before=$(snapshot "$OUT")
  avail() { df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' '; }
  need=$(du -s -B4096 "$REF" | cut -f1)  # pages the new files take
  refused=0 landed=0
  # Free pages from 0 to need+2: coarse at first, then page by page near the top, where
  # the small .onnx files and the report are written last.
  for ((free = 0; free <= need + 2; free += (free < need - 24 ? 8 : 1))); do
    rm -f "$MNT/filler"
    fill=$(($(avail) - free * 4096))
    ((fill > 0)) && fallocate -l $fill "$MNT/filler"
    rc=0
    "$E2O_BIN" export --quiet --model-dir "$NEW" --out-dir "$OUT" >/dev/null 2>"$WORK/enospc.err" || rc=$?
    if ((rc == 0)); then
      landed=$((landed + 1))
      for f in "$REF"/*.onnx "$REF"/*.onnx_data; do
        cmp -s "$f" "$OUT/$(basename "$f")" || die "enospc free=$free pages: exit 0 but $(basename "$f") differs"
      done
      # Put the previous export back for the next step.
      rm -rf "$OUT" && cp -a "$WORK/enospc_previous" "$OUT"
    else
      refused=$((refused + 1))
      expect_refused "enospc free=$free pages" $rc >/dev/null
      # Refused up front by the free-space check (naming the folder), or by the write
      # that found the disk full (naming the file).
      expect_one_error "enospc free=$free pages" "$WORK/enospc.err" 'No space left on device|not enough free space' >/dev/null
      grep -Eq "$MNT/out(/[^ ]*(onnx|onnx_data|json))?: " "$WORK/enospc.err" || die "enospc free=$free: error names no file"
      # What failed where, numbers and pids left out.
      sed -E -e "s|^embed2onnx: error: $MNT/||" -e 's/tmp-[0-9]+-/tmp-PID-/' -e 's/offset [0-9]+/offset N/' \
        -e 's/[0-9]+ bytes, [0-9]+ are free/N bytes, M are free/' \
        "$WORK/enospc.err" >>"$WORK/enospc.kinds"
      expect_unchanged "enospc free=$free pages" "$OUT" "$before"
    fi
    expect_no_temporaries "enospc free=$free pages" "$OUT"
  done
  echo "enospc: swept 0..$((need + 2)) free pages (export needs $need): $refused refused cleanly, $landed landed whole"
  echo "enospc: the refusals were:"
  sort "$WORK/enospc.kinds" | uniq -c
  ((refused > 0 && landed > 0)) || die "enospc: the sweep did not cover both outcomes"
  rm -f "$MNT/filler"
  umount "$MNT"
  trap - EXIT
fi

# ---------------------------------------------------------------------------------------
section bad_out
echo "not a folder" >"$WORK/a_file"
rc=0
"$E2O_BIN" export --model-dir "$PREV" --out-dir "$WORK/a_file" >/dev/null 2>"$WORK/bad_out.err" || rc=$?
expect_refused "out dir is a file" $rc
expect_one_error "out dir is a file" "$WORK/bad_out.err" "a_file: .*not a folder"
rc=0
"$E2O_BIN" export --model-dir "$PREV" --out-dir "$WORK/a_file/sub" >/dev/null 2>"$WORK/bad_out.err" || rc=$?
expect_refused "out dir under a file" $rc
expect_one_error "out dir under a file" "$WORK/bad_out.err" "a_file"
[[ $(cat "$WORK/a_file") == "not a folder" ]] || die "bad_out: the file changed"

official_check "$WORK"
echo "faults: ok"
