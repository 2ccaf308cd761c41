#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs them.
#
#   bash fuzz/run.sh regress 0      every seed of fuzz/corpus/<target>/ once; exit 1 on
#                                   any crash, leak, UB or failed invariant (ctest)
#   bash fuzz/run.sh fuzz SECONDS   fuzz each target for SECONDS (make fuzz: 300)
#
# The build goes to $E2O_FUZZ_BUILD (default build-fuzz/). Fuzzing reads the seeds from
# the repo but writes what it discovers to $E2O_FUZZ_BUILD/new-corpus/<target>/ and any
# crashing input to $E2O_FUZZ_BUILD/artifacts/; to keep a finding, turn it into a seed
# in fuzz/make_corpus.sh or a unit test. Exit 77: clang++ is missing (ctest skips).
set -euo pipefail

mode=${1:-}
seconds=${2:-0}
case $mode in
  regress | fuzz) ;;
  *)
    echo "usage: bash fuzz/run.sh regress 0 | fuzz SECONDS" >&2
    exit 2
    ;;
esac

if ! command -v clang++ >/dev/null; then
  echo "fuzz/run.sh: SKIPPED: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)"
  exit 77
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${E2O_FUZZ_BUILD:-$root/build-fuzz}
targets=(safetensors_header_fuzz index_fuzz onnx_model_fuzz)

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ cmake -S "$root/fuzz" -B "$build" -G Ninja >/dev/null
fi
cmake --build "$build"

mkdir -p "$build/artifacts"
# Leaks are findings; a hung input fails after 10 s instead of stalling ctest.
common=(-artifact_prefix="$build/artifacts/" -timeout=10 -rss_limit_mb=2048)
dict=$root/fuzz/json.dict
failed=()
for t in "${targets[@]}"; do
  seeds=("$root/fuzz/corpus/$t"/*)
  flags=("${common[@]}")
  [ "$t" != onnx_model_fuzz ] && flags+=(-dict="$dict")
  if [ "$mode" = regress ]; then
    # Files, not the folder: each seed runs exactly once, whatever its size.
    echo "fuzz/run.sh: $t over ${#seeds[@]} seeds"
    if ! "$build/$t" "${flags[@]}" "${seeds[@]}" >"$build/$t.log" 2>&1; then
      tail -n 40 "$build/$t.log"
      failed+=("$t")
    fi
  else
    mkdir -p "$build/new-corpus/$t"
    echo "fuzz/run.sh: fuzzing $t for $seconds s (new inputs: $build/new-corpus/$t)"
    # The full log goes to the file; the terminal gets the milestones.
    rm -f "$build/$t.rc"
    {
      rc=0
      "$build/$t" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        "$build/new-corpus/$t" "$root/fuzz/corpus/$t" 2>&1 || rc=$?
      echo "$rc" >"$build/$t.rc"
    } | tee "$build/$t.log" | grep --line-buffered -E "INITED|DONE|pulse|ERROR|SUMMARY|executed_units" || true
    [ "$(cat "$build/$t.rc" 2>/dev/null)" = 0 ] || failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/run.sh: FAILED: ${failed[*]} (see $build/<target>.log: it names the seed, or the crashing input" \
    "saved in $build/artifacts/)"
  exit 1
fi
echo "fuzz/run.sh: $mode: all ${#targets[@]} targets passed"
