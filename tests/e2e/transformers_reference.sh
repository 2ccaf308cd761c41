#!/usr/bin/env bash
# Checkpoints written by transformers' own classes (Granite Speech, Granite Speech Plus,
# Llama; bf16 and f32; sharded and one file), exported in generic and preset mode, every
# tier run in onnxruntime (Python) and held bit for bit to torch's embedding output under
# the tier's documented encoding, every graph through the official checker
# (tests/python/hf_reference.py). Needs the pinned environment (make venv).
source "$(dirname "$0")/lib/common.sh"
need_venv
"$VENV_PY" "$PY_TESTS/hf_reference.py" --bin "$E2O_BIN" --work "$WORK" 2> >(grep -v -e 'it/s]' -e '^$' >&2)
