#!/usr/bin/env bash
# The original script itself (the seed, tests/python/original_export_embed_tokens.py, held
# equal to ../shared/seed/ but for whitespace) run in the pinned environment on Granite
# Speech base and plus checkpoints written by transformers' own classes (bf16 one file, bf16
# sharded, f32 sharded), and embed2onnx's presets on the same checkpoints: the same
# initializers byte for byte, the same ONNX Runtime outputs bit for bit, and the same
# report, figure by figure, exact or different only the way docs/format.md documents for
# numpy 1.24 vs 2.4 (tests/python/compare_original.py). Every graph of both through the
# official checker.
source "$(dirname "$0")/lib/common.sh"
: "${E2O_SHARED:?E2O_SHARED must name the shared folder}"
need_venv
seed=("$E2O_SHARED"/seed/*.txt)
[[ ${#seed[@]} -eq 1 && -f ${seed[0]} ]] || { echo "expected one seed file in $E2O_SHARED/seed" >&2; exit 1; }
"$VENV_PY" "$PY_TESTS/compare_original.py" --bin "$E2O_BIN" --seed "${seed[0]}" --work "$WORK" \
  2> >(grep -v -e 'it/s]' -e '^$' -e 'torch_dtype. is deprecated' >&2)
official_check "$WORK"
echo "original_script: ok"
