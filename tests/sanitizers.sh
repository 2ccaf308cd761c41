#!/usr/bin/env bash
# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (E2O_SANITIZE),
# built in a folder of their own. Any report aborts the run and fails the test: leaks
# included, and UBSan stops at its first finding. The unit tests that drive the CLI run
# the sanitized CLI, so it is covered too.
#
# RelWithDebInfo, but at -O0 -g1 (line tables) instead of -O2 -g: compile time is what
# matters on a 2-core CI (g++ -O2 -g: 11.4 CPU-minutes, -O1: 6.7, -O0: about 4.5), and the
# tests still run in seconds. Without -DNDEBUG, so asserts run too.
#
# With clang++ when it is installed (make test installs it: the fuzz targets need it):
# measured on an idle 2-core machine, this build took 414 CPU-s and 2 m 26 s with g++ 12,
# 240 CPU-s and 1 m 25 s with clang 14. The release build beside it stays g++, so both
# compilers' warnings see the code; g++'s own sanitizers then run only where clang is missing.
#
# With a third argument `thread`, the same under ThreadSanitizer instead (E2O_SANITIZE_THREAD,
# at -O1: the export's pass runs a reader, encoders and sink lanes over shared slots, and
# TSan reports any access to a slot that the hand-overs do not order). That build holds
# only the test files that can start a thread (tests/CMakeLists.txt): on the Intel VM of
# 2026-12-06, 239 CPU-s and 125 s to build with clang 14 and 19 s to run, against 347 CPU-s,
# 181 s and 24 s with every test file.
#
# Usage: tests/sanitizers.sh SOURCE_DIR BUILD_DIR [address|thread]
#        (CTest: sanitizers.unit, sanitizers.thread)
set -euo pipefail
SRC=${1:?usage: $0 SOURCE_DIR BUILD_DIR [address|thread]}
BIN=${2:?usage: $0 SOURCE_DIR BUILD_DIR [address|thread]}
KIND=${3:-address}
case $KIND in
  # Each turns the other off too, should BUILD_DIR's cache hold it from a run of the other.
  address) flags=(-DE2O_SANITIZE=ON -DE2O_SANITIZE_THREAD=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1") ;;
  thread) flags=(-DE2O_SANITIZE_THREAD=ON -DE2O_SANITIZE=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1") ;;
  *) echo "sanitizers.sh: unknown sanitizer '$KIND' (address or thread)" >&2; exit 2 ;;
esac
start=$SECONDS
compiler=()
command -v clang++ >/dev/null && compiler=(-DCMAKE_CXX_COMPILER=clang++)
cmake -S "$SRC" -B "$BIN" -G Ninja "${compiler[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" \
  -DE2O_BUILD_TESTS=ON -DE2O_BUILD_BENCH=OFF >/dev/null
# Only the unit-test binary (and the CLI and generator it runs).
cmake --build "$BIN" --target embed2onnx_tests
built=$SECONDS
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
"$BIN/tests/embed2onnx_tests" --gtest_brief=1
echo "sanitizers ($KIND): build $((built - start)) s, unit tests $((SECONDS - built)) s"
