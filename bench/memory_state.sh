# memory_state.sh, sourced by the timed benches: prepare [MODE] puts the machine's memory
# in MODE (default $MEMORY, resident or cold) right before a timed run.
#
# This VM hands freed memory back to its host a few seconds after it is freed, and
# touching it again costs a host fault, so one command varies 5-10x with the memory's
# state. resident fills and frees 3 GB of page cache, so that the run finds resident
# memory, as on a machine of its own; cold syncs and pauses SETTLE seconds instead, which
# is what a user on a VM meets.
MEMORY=${MEMORY:-resident}
SETTLE=${SETTLE:-4}
case "$MEMORY" in resident | cold) ;; *) echo "${0##*/}: MEMORY must be resident or cold" >&2; exit 2 ;; esac

prepare() {
  sync
  if [ "${1:-$MEMORY}" = resident ]; then
    head -c 3000000000 /dev/zero >/dev/shm/e2o-fill
    rm -f /dev/shm/e2o-fill
  else
    sleep "$SETTLE"
  fi
}
