#!/usr/bin/env bash
# tiers_vs_floor.sh: the export against the I/O floor for each tier set, at Granite size
# (100353 x 2048 bf16): the original three tiers and what `export` writes by default.
#
#   bash bench/tiers_vs_floor.sh [BUILD]
#   env: REPS=5  MEMORY=resident|cold  BASE=<another embed2onnx to time interleaved>
#        ARGS / BASE_ARGS="<more export flags for ours / for BASE>"; BASE=$E2O with
#        ARGS="--audio-token-id 100352" times the splice graphs' cost against none
#        TIER_SETS="fp32,fp16w,int8 fp32,fp16w,bf16w,int8,int4"
#
# Memory state. This VM hands freed memory back to its host a few seconds after it is
# freed, and touching it again costs a host fault, so one command varies 5-10x with the
# memory's state. MEMORY=resident (the default) fills and frees 3 GB of page cache right
# before every timed run, so each run finds resident memory, as on a machine of its own;
# the runs then agree within about 15 %. MEMORY=cold syncs and pauses SETTLE seconds
# instead, which is what a user on a VM meets; those figures drift 2x from run to run.
#
# The floor writes the same bytes the export writes, together with a `cat` of the
# checkpoint (the export reads it too), three ways: `head -c`, `dd bs=32k`, `dd bs=1M`;
# the best of the three is the floor of that pair. Each rep times, in turn, the three
# floors, ours, and BASE when given. Prints wall, user and sys per run, then medians, with
# ours / floor as the median of per-pair ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
E2O=$BUILD/embed2onnx
MKCK=$BUILD/make_checkpoint
BENCH=$BUILD/bench
REPS=${REPS:-5}
BASE=${BASE:-}
read -r -a ARGS <<<"${ARGS:-}"
read -r -a BASE_ARGS <<<"${BASE_ARGS:-}"
V=${BENCH_V:-100353}
D=${BENCH_D:-2048}
TIER_SETS=${TIER_SETS:-"fp32,fp16w,int8 fp32,fp16w,bf16w,int8,int4"}
for tool in "$E2O" "$MKCK" /usr/bin/time ${BASE:+"$BASE"}; do
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
trap 'rm -rf "$OUT" "$BENCH/floor.bin" /dev/shm/e2o-fill' EXIT

source bench/memory_state.sh
# timed CMD...: prints "wall user sys maxrss_kib" of CMD after prepare.
timed() {
  prepare
  /usr/bin/time -f '%e %U %S %M' -o "$BENCH/.time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  tail -n 1 "$BENCH/.time"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / (b > 0.005 ? b : 0.005) }'; }
min3() { printf '%s\n' "$@" | sort -g | head -n 1; }

echo "table ${V} x ${D} bf16 ($(stat -c %s "$CK/model.safetensors") bytes), REPS=$REPS, memory $MEMORY${BASE:+, base $BASE}${ARGS[*]:+, ours with ${ARGS[*]}}${BASE_ARGS[*]:+, base with ${BASE_ARGS[*]}}"
for tiers in $TIER_SETS; do
  rm -rf "$OUT"
  "$E2O" export --model-dir "$CK" --out-dir "$OUT" --tiers "$tiers" "${ARGS[@]}" -q
  bytes=$(du -sb "$OUT" | cut -f1)
  floors=() ours=() users=() syss=() ratios=() bases=() base_ratios=() rss=0 base_rss=0
  for rep in $(seq "$REPS"); do
    fl=()
    for how in head dd32k dd1m; do
      rm -f "$BENCH/floor.bin"
      case $how in
        head) cmd="head -c $bytes /dev/zero >'$BENCH/floor.bin'" ;;
        dd32k) cmd="dd if=/dev/zero of='$BENCH/floor.bin' bs=32k count=$((bytes / 32768 + 1)) status=none" ;;
        dd1m) cmd="dd if=/dev/zero of='$BENCH/floor.bin' bs=1M count=$((bytes / 1048576 + 1)) status=none" ;;
      esac
      read -r fw _ _ _ < <(timed bash -c "cat '$CK/model.safetensors' >/dev/null && $cmd")
      fl+=("$fw")
    done
    rm -f "$BENCH/floor.bin"
    floor=$(min3 "${fl[@]}")
    rm -rf "$OUT"
    read -r ow ou os orss < <(timed "$E2O" export --model-dir "$CK" --out-dir "$OUT" --tiers "$tiers" "${ARGS[@]}" -q)
    line="  $tiers rep $rep: floor ${floor} s (head ${fl[0]}, dd 32k ${fl[1]}, dd 1M ${fl[2]}), ours ${ow} s"
    line+=" (user $ou, sys $os, peak RSS $((orss / 1024)) MiB)"
    floors+=("$floor") ours+=("$ow") users+=("$ou") syss+=("$os") ratios+=("$(ratio "$ow" "$floor")")
    [ "$orss" -gt "$rss" ] && rss=$orss
    if [ -n "$BASE" ]; then
      rm -rf "$OUT"
      read -r bw bu bs brss < <(timed "$BASE" export --model-dir "$CK" --out-dir "$OUT" --tiers "$tiers" "${BASE_ARGS[@]}" -q)
      line+=", base ${bw} s (user $bu, sys $bs, $((brss / 1024)) MiB)"
      bases+=("$bw") base_ratios+=("$(ratio "$bw" "$floor")")
      [ "$brss" -gt "$base_rss" ] && base_rss=$brss
    fi
    echo "$line"
  done
  echo "$tiers: $bytes bytes; median floor $(median "${floors[@]}") s, ours $(median "${ours[@]}") s" \
       "(user $(median "${users[@]}"), sys $(median "${syss[@]}")); ours / floor $(median "${ratios[@]}");" \
       "peak RSS $((rss / 1024)) MiB"
  if [ -n "$BASE" ]; then
    echo "$tiers: base $(median "${bases[@]}") s, base / floor $(median "${base_ratios[@]}"), peak RSS $((base_rss / 1024)) MiB"
  fi
done
