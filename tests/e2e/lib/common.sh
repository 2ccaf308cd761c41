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

source "$(dirname "${BASH_SOURCE[0]}")/official_check.sh"
