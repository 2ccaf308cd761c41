#!/usr/bin/env bash
# write_piece.sh: what a buffered write costs per piece size, on resident and on cold
# memory: `dd` writes BYTES (default 1.97 GB, what the five-tier Granite export writes)
# into the page cache in pieces of 8 KiB .. 4 MiB, REPS times (3) each, interleaved.
#
#   bash bench/write_piece.sh [DIR]         (DIR: where the file goes, default /tmp)
#   env: REPS=3  BYTES=1972000000  SIZES="8k 32k 64k 256k 1M 4M"  SETTLE=5
#
# resident: 3 GB of page cache filled and freed right before the run (free memory is
# resident, as on a machine of its own); cold: a sync and a SETTLE s pause (this VM has
# handed the freed memory back to its host). Prints wall, user, sys per run and medians.
set -euo pipefail
DIR=$(cd "${1:-/tmp}" && pwd)  # absolute: the script moves to the repo root
REPS=${REPS:-3}
BYTES=${BYTES:-1972000000}
SIZES=${SIZES:-"8k 32k 64k 256k 1M 4M"}
SETTLE=${SETTLE:-5}
cd "$(dirname "$0")/.."
source bench/memory_state.sh
F=$DIR/e2o-write-piece.bin
trap 'rm -f "$F" /dev/shm/e2o-fill' EXIT
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A W U S
for mem in resident cold; do
  for rep in $(seq "$REPS"); do
    for bs in $SIZES; do
      rm -f "$F"
      prepare "$mem"
      read -r w u s < <(/usr/bin/time -f '%e %U %S' dd if=/dev/zero of="$F" bs="$bs" count="$BYTES" \
        iflag=count_bytes status=none 2>&1 | tail -n 1)
      W[$mem,$bs]+="$w " U[$mem,$bs]+="$u " S[$mem,$bs]+="$s "
      echo "$mem rep $rep bs $bs: wall $w user $u sys $s"
    done
  done
done
rm -f "$F"
echo "memory  piece  wall s (median)  user s  sys s  runs (wall)"
for mem in resident cold; do
  for bs in $SIZES; do
    # shellcheck disable=SC2086
    echo "$mem $bs $(median ${W[$mem,$bs]}) $(median ${U[$mem,$bs]}) $(median ${S[$mem,$bs]}) [${W[$mem,$bs]% }]"
  done
done
