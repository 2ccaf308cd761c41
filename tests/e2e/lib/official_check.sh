# The official ONNX checker for the e2e scripts: sourced by common.sh, and on its own by the
# scripts that set themselves up without common.sh. Needs the pinned test environment
# (make venv): missing is a failure, never a skip.
VENV_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../python" && pwd)/.venv/bin/python"
PY_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../python" && pwd)"
need_venv() {
  [[ -x "$VENV_PY" ]] || { echo "the pinned test environment is missing: run 'make venv' (tests/python/requirements.txt)" >&2; exit 1; }
}
# official_check [--hidden D] [--exclude GLOB]... DIR|FILE...: onnx.checker.check_model
# (full_check) + strict shape inference requiring [B, N, D] (tests/python/check_onnx.py) on
# every *.onnx under each DIR, subfolders included, so graphs a new feature adds are checked
# without an edit here. --exclude leaves out, relative to the DIR, the hostile or broken
# files a test writes on purpose. One python process per call: pass every folder at once.
official_check() {
  need_venv
  "$VENV_PY" "$PY_TESTS/check_onnx.py" "$@" || { echo "official_check failed ($*)" >&2; exit 1; }
}
