#!/usr/bin/env bash
# The official ONNX checker on the graphs the unit tests write: the unit tests run again
# with E2O_KEEP_ONNX set, so each test folder's .onnx files and sidecars are kept
# (tests/test_util/files.h), and tests/python/check_onnx.py (check_model full_check + strict
# shape inference, [B, N, D]) reads every one. The e2e scripts sweep their own folders; this
# covers the exports the unit tests make through the library (every tier, splice graphs,
# fp16 outputs, odd widths, subsets, re-exports).
#
# Left out: the suites that write hand-built graphs or junk bytes on purpose, to test
# the checks and the clean-up themselves (a graph with no name, an unknown op, a file
# that is not protobuf).
#
# Usage: tests/unit_official_check.sh UNIT_TEST_BINARY WORK_DIR   (CTest: unit.official_check)
set -euo pipefail
BIN=${1:?usage: $0 UNIT_TEST_BINARY WORK_DIR}
WORK=${2:?usage: $0 UNIT_TEST_BINARY WORK_DIR}
source "$(dirname "$0")/e2e/lib/official_check.sh"
need_venv
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
E2O_KEEP_ONNX=$WORK "$BIN" --gtest_brief=1 \
  --gtest_filter='-ContractTest.*:EvaluatorTest.*:EvaluatorOpsTest.*:TempGuardTest.*' >"$WORK.log" 2>&1 || {
  cat "$WORK.log" >&2; echo "unit_official_check: the unit tests failed" >&2; exit 1; }
count=$(find "$WORK" -name '*.onnx' | wc -l)
# A sweep that finds next to nothing would prove nothing: the export tests alone write dozens.
[ "$count" -ge 40 ] || { echo "unit_official_check: only $count .onnx files kept under $WORK" >&2; exit 1; }
official_check "$WORK"
