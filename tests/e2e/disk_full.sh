#!/usr/bin/env bash
# An export larger than the free space is refused before its first byte: one error line
# naming the folder, the bytes it needs and the bytes free; the previous export stays
# byte for byte, and no file was created (checked with strace when it is installed). An
# export that fits beside the previous one (whose space is freed only at the commit)
# still lands. Needs a small tmpfs: exits 77 (skipped) only if mounting one is refused.
set -euo pipefail
MNT="${1:?usage: $0 WORKDIR}/tmpfs"
# A tmpfs still mounted by a run that was killed must go before the folder is emptied.
if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT"; fi
source "$(dirname "$0")/lib/common.sh"
die() { echo "FAIL $*" >&2; exit 1; }
snapshot() {
  find "$1" -mindepth 1 -printf '%P|%y|%s\n' | sort
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

mkdir -p "$MNT"
if ! mount -t tmpfs -o size=2m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "disk_full: SKIPPED: cannot mount a small tmpfs here ($(head -n 1 "$WORK/mount.err"))"
  exit 77
fi
trap 'umount "$MNT" 2>/dev/null || true' EXIT

PREV="$WORK/prev_ckpt"  # every tier: about 0.6 MiB
"$E2O_GEN" --out "$PREV" --vocab 1000 --hidden 64 --seed 61 >/dev/null
BIG="$WORK/big_ckpt"  # the fp32 sidecar alone is 10 MB
"$E2O_GEN" --out "$BIG" --vocab 20000 --hidden 128 --seed 62 >/dev/null
OUT="$MNT/out"
"$E2O_BIN" export --quiet --model-dir "$PREV" --out-dir "$OUT"
before=$(snapshot "$OUT")
free=$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')

rc=0
if command -v strace >/dev/null; then
  strace -f -qq -o "$WORK/strace.log" -e trace=open,openat,creat,mkdir,rename,unlink \
    "$E2O_BIN" export --model-dir "$BIG" --out-dir "$OUT" >/dev/null 2>"$WORK/big.err" || rc=$?
else
  "$E2O_BIN" export --model-dir "$BIG" --out-dir "$OUT" >/dev/null 2>"$WORK/big.err" || rc=$?
fi
((rc >= 1 && rc <= 125)) || die "exit $rc, expected a refusal; stderr: $(cat "$WORK/big.err")"
[[ $(wc -l <"$WORK/big.err") == 1 ]] || die "expected one line on stderr: $(cat "$WORK/big.err")"
line=$(cat "$WORK/big.err")
re="^embed2onnx: error: $OUT: not enough free space: this export writes ([0-9]+) bytes, ([0-9]+) are free"
[[ $line =~ $re ]] || die "unexpected error: $line"
need=${BASH_REMATCH[1]} have=${BASH_REMATCH[2]}
((have == free)) || die "the error says $have bytes are free, df says $free"
((need > 20000 * 128 * 4 && need > have)) || die "the error says the export needs $need bytes"
echo "refused: $line"
[[ $(snapshot "$OUT") == "$before" ]] || die "the previous export changed"
[[ -z $(find "$OUT" -name '.embed2onnx-tmp-*') ]] || die "temporaries left"
if [[ -f $WORK/strace.log ]]; then
  # Reading the checkpoint and the folder is fine; nothing may be created or changed in it.
  if grep -E "\"$OUT/[^\"]*\"" "$WORK/strace.log" | grep -E 'O_CREAT|O_WRONLY|O_RDWR|creat\(|rename|unlink'; then
    die "the refused export created or changed files in $OUT"
  fi
  echo "strace: no file in $OUT was created, written, renamed or removed"
fi

# Fits beside the previous export: lands, and replaces it.
MID="$WORK/mid_ckpt"  # every tier: about 1.2 MiB
"$E2O_GEN" --out "$MID" --vocab 2000 --hidden 64 --seed 63 >/dev/null
"$E2O_BIN" export --quiet --model-dir "$MID" --out-dir "$OUT" 2>"$WORK/mid.err" || die "the export that fits failed: $(cat "$WORK/mid.err")"
grep -qF "\"checkpoint\": \"$MID/" "$OUT/embed_tokens_parity.json" || die "the report does not name the new checkpoint"
echo "an export that fits beside the previous one landed"
official_check "$WORK"  # the tmpfs is still mounted: its export is checked too
echo "disk_full: ok"
