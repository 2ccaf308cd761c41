# Sourced by every tests/e2e/*.sh: the work folder from $1 (emptied), the tools from the
# environment CTest sets (E2O_BIN, E2O_GEN, NODE), and the ONNX Runtime checker.
set -euo pipefail
WORK=${1:?usage: $0 WORKDIR}
: "${E2O_BIN:?E2O_BIN must name the embed2onnx binary}" "${E2O_GEN:?E2O_GEN must name make_checkpoint}"
NODE=${NODE:-node}
ORT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../ort" && pwd)"
CHECK="$ORT_DIR/check_export.mjs"
[[ -d "$ORT_DIR/node_modules/onnxruntime-node" ]] || { echo "onnxruntime-node is not installed: run 'make npm-deps'" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"

# The pinned test environment (make venv): the official ONNX checker, onnxruntime,
# torch, transformers. Missing is a failure, never a skip.
VENV_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../python" && pwd)/.venv/bin/python"
PY_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../python" && pwd)"
need_venv() {
  [[ -x "$VENV_PY" ]] || { echo "the pinned test environment is missing: run 'make venv' (tests/python/requirements.txt)" >&2; exit 1; }
}
# official_check [--hidden D] DIR|FILE...: onnx.checker full_check + strict shape inference.
official_check() {
  need_venv
  "$VENV_PY" "$PY_TESTS/check_onnx.py" "$@"
}
