#!/usr/bin/env bash
# tiers_vs_floor.sh: the export's wall time against the I/O floor for each tier set, at
# Granite size (100353 x 2048 bf16). run_bench.sh measures the original three tiers
# against the original pipeline; this covers what `export` writes by default (all five).
#
#   bash bench/tiers_vs_floor.sh [BUILD]       (REPS=5, SETTLE=4; about 3 minutes)
#
# For each tier set: a warm-up export gives the bytes written; then REPS times, in turn,
# the floor (`cat` of the checkpoint + `head -c BYTES /dev/zero`) and the export, each
# under /usr/bin/time after a sync and a SETTLE-second pause (see RESULTS.md for why).
# Prints per run and the medians, with ours / floor as the median of per-pair ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
E2O=$BUILD/embed2onnx
MKCK=$BUILD/make_checkpoint
BENCH=$BUILD/bench
REPS=${REPS:-5}
SETTLE=${SETTLE:-4}
V=${BENCH_V:-100353}
D=${BENCH_D:-2048}
for tool in "$E2O" "$MKCK" /usr/bin/time; do
  [ -x "$tool" ] || { echo "tiers_vs_floor: missing $tool (make build; apt-get install time)" >&2; exit 1; }
done
CK=$BENCH/ckpt-${V}x$D
OUT=$BENCH/tiers-out
mkdir -p "$BENCH"
if [ ! -f "$CK/.complete" ]; then
  rm -rf "$CK"
  "$MKCK" --out "$CK" --vocab "$V" --hidden "$D" --dtype bf16 --seed 2026 >/dev/null
  touch "$CK/.complete"
fi
cat "$CK/model.safetensors" >/dev/null
trap 'rm -rf "$OUT" "$BENCH/floor.bin"' EXIT

# timed CMD...: prints "wall user sys maxrss_kib" of CMD after a sync and a pause.
timed() {
  sync
  sleep "$SETTLE"
  /usr/bin/time -f '%e %U %S %M' -o "$BENCH/.time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  tail -n 1 "$BENCH/.time"
}

echo "table ${V} x ${D} bf16 ($(stat -c %s "$CK/model.safetensors") bytes), REPS=$REPS"
for tiers in fp32,fp16w,int8 fp32,fp16w,bf16w,int8,int4; do
  rm -rf "$OUT"
  "$E2O" export --model-dir "$CK" --out-dir "$OUT" --tiers "$tiers" -q
  bytes=$(du -sb "$OUT" | cut -f1)
  floors=() ours=() ratios=() rss=0
  for rep in $(seq "$REPS"); do
    rm -f "$BENCH/floor.bin"
    read -r fw _ _ _ < <(timed bash -c "cat '$CK/model.safetensors' >/dev/null && head -c $bytes /dev/zero >'$BENCH/floor.bin'")
    rm -f "$BENCH/floor.bin"
    rm -rf "$OUT"
    read -r ow ou os orss < <(timed "$E2O" export --model-dir "$CK" --out-dir "$OUT" --tiers "$tiers" -q)
    echo "  $tiers rep $rep: floor ${fw} s, ours ${ow} s (user $ou, sys $os, peak RSS $((orss / 1024)) MiB)"
    floors+=("$fw") ours+=("$ow") ratios+=("$(awk -v a="$ow" -v b="$fw" 'BEGIN { printf "%.3f", a / (b > 0.005 ? b : 0.005) }')")
    [ "$orss" -gt "$rss" ] && rss=$orss
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  echo "$tiers: $bytes bytes written; median floor $(median "${floors[@]}") s, ours $(median "${ours[@]}") s;" \
       "ours / floor (median of pairs) $(median "${ratios[@]}") (target <= 1.5); peak RSS $((rss / 1024)) MiB"
done
